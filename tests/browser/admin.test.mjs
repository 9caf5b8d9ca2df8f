// The admin pages in a real browser. Orders: filter by status, move an order CREATED ->
// PROCESSING -> SHIPPED with a tracking reference, cancel one with a reason, and read the 409,
// in words, when another admin (this test, through the API) moved an order first. Catalogue:
// add a product, change its price, add 5 units, take out more than there are (the 409 in
// words), retire it and see it gone from the shop's catalogue. Orders and products of the
// test's own; screenshots in target/browser-artifacts/admin-*.png.
//
// The admin signs in through the page's demo sign-in: the stack's own admin entry when its
// list has one, else one offered by the test with a token from the local issuer.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/admin.test.mjs

import assert from 'node:assert/strict';
import {
  adminToken, browserTest, claimsOf, createProduct, expectApi, filterCatalogue, newCustomer, offerAccounts, openShop, run, signIn,
} from './harness.mjs';

const category = `Admin test ${run}`;
const admin = adminToken();
const customer = newCustomer('Admin test customer');
const stock = await createProduct(admin, { name: `Teapot ${run}`, price: '31.00', stock: 20, category });
const place = () => expectApi(201, customer.token, 'POST', '/orders', { items: [{ productId: stock.id, quantity: 1 }] });
// Oldest first, so that the newest (listed first) is `raced`.
const toShip = await place();
const toCancel = await place();
const raced = await place();
const short = (order) => order.id.slice(0, 8);

await browserTest('admin', async (page, snap) => {
  const testAdmin = { id: claimsOf(admin).sub, name: `Shop admin ${run}`, token: admin, admin: true };
  const served = await offerAccounts(page, [testAdmin]);
  await openShop(page);
  const stackAdmin = served.demo.find((entry) => entry.admin === true);
  console.log(stackAdmin
    ? `  signing in as the stack's demo admin, ${stackAdmin.name}`
    : '  the stack offers no demo admin: signing in as one offered by the test');
  const adminName = stackAdmin?.name ?? testAdmin.name;

  // 1. The admin pages are not offered to a customer, and are to an admin.
  const shopOrders = page.getByRole('link', { name: 'Shop orders' });
  const manageCatalogue = page.getByRole('link', { name: 'Manage catalogue' });
  assert.equal(await shopOrders.count(), 0, 'no admin pages before signing in');
  await page.getByLabel('Demo account').selectOption({ label: `${adminName} (admin)` });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account').getByText(`Signed in as ${adminName} (admin)`).waitFor();
  await shopOrders.waitFor();
  await manageCatalogue.waitFor();

  // 2. Everyone's orders, filtered to CREATED: the test's three are there, and only CREATED.
  await shopOrders.click();
  await page.getByRole('heading', { name: 'Shop orders' }).waitFor();
  await page.getByLabel('Status').selectOption('CREATED');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  // Everyone's total is counted a few seconds behind, so it is not compared here.
  await page.getByText(/Showing \d+ (of \d+ )?CREATED orders/).waitFor();
  const card = (order) => page.locator(`li.order[data-order-id="${order.id}"]`);
  for (const order of [raced, toCancel, toShip]) await card(order).waitFor();
  const statuses = await page.locator('li.order .order-status').allTextContents();
  assert.ok(statuses.length >= 3 && statuses.every((status) => status.trim() === 'CREATED'), `only CREATED: ${statuses}`);
  await snap('created-orders');

  // 3. CREATED -> PROCESSING -> SHIPPED, with a tracking reference, in the history.
  await card(toShip).getByRole('button', { name: `Start processing: order ${short(toShip)}` }).click();
  await page.getByRole('status').getByText(`Order ${short(toShip)} is now PROCESSING`).waitFor();
  await card(toShip).locator('.order-status', { hasText: 'PROCESSING' }).waitFor();
  await card(toShip).getByRole('button', { name: `Mark shipped: order ${short(toShip)}` }).click();
  await card(toShip).getByLabel('Tracking reference').fill('1Z999AA10123456784');
  assert.equal(await card(toShip).getByRole('button', { name: /Cancel order/ }).isVisible(), false, 'one move at a time');
  await snap('shipping');
  await card(toShip).getByRole('button', { name: 'Mark shipped', exact: true }).click();
  await page.getByRole('status').getByText(`Order ${short(toShip)} is now SHIPPED`).waitFor();
  const history = card(toShip).getByRole('table', { name: 'History' });
  await history.waitFor();
  const rows = await history.getByRole('row').allTextContents();
  assert.equal(rows.length, 4, `heading, CREATED, PROCESSING, SHIPPED: ${rows}`);
  assert.match(rows[2], /PROCESSING.*Admin/);
  assert.match(rows[3], /SHIPPED.*Admin.*Tracking reference: 1Z999AA10123456784/);
  assert.ok(await card(toShip).getByRole('button', { name: `Mark delivered: order ${short(toShip)}` }).isVisible());
  await snap('shipped');

  // 4. Cancel one, with a reason.
  await card(toCancel).getByRole('button', { name: `Cancel order ${short(toCancel)}` }).click();
  await card(toCancel).getByLabel('Reason (optional)').fill('Out of stock at the supplier');
  await card(toCancel).getByRole('button', { name: 'Yes, cancel the order' }).click();
  await page.getByRole('status').getByText(`Order ${short(toCancel)} is cancelled`).waitFor();
  assert.match(await card(toCancel).getByRole('table', { name: 'History' }).textContent(), /CANCELLED.*Admin.*Reason: Out of stock at the supplier/);

  // 5. Another admin moves an order first: this page's move is refused, in words, and the
  //    order is shown as it is now.
  await expectApi(200, admin, 'PATCH', `/orders/${raced.id}`, { status: 'PROCESSING' });
  await card(raced).getByRole('button', { name: `Start processing: order ${short(raced)}` }).click();
  const alert = page.locator('#error');
  await alert.getByText('The order was not moved').waitFor();
  assert.match(await alert.textContent(), /cannot move from PROCESSING to PROCESSING.*Someone else changed it first/);
  assert.equal(await alert.getAttribute('role'), 'alert');
  await card(raced).locator('.order-status', { hasText: 'PROCESSING' }).waitFor();
  await card(raced).getByRole('button', { name: `Mark shipped: order ${short(raced)}` }).waitFor();
  await snap('moved-first-409');

  // 6. The catalogue: a new product, priced in dollars and cents.
  await manageCatalogue.click();
  await page.getByRole('heading', { name: 'Manage the catalogue' }).waitFor();
  const name = `Milk Jug ${run}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Category', { exact: true }).first().fill(category);
  await page.getByLabel('Price', { exact: true }).fill('12.5');
  await page.getByLabel('Stock', { exact: true }).fill('3');
  await page.getByLabel('SKU (optional)').fill(`JUG-${run}`);
  await page.getByRole('button', { name: 'Add product' }).click();
  await page.getByRole('status').getByText(`${name} is added`).waitFor();
  await page.getByRole('heading', { name: `Products: ${category}` }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(name) }).first();
  await row.getByRole('cell', { name: '$12.50' }).waitFor();
  const productId = await row.getAttribute('data-product-id');
  await snap('product-added');

  // 7. A new price: only the price is sent, as decimal text, and it is exact.
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('form', { name: `Edit ${name}` });
  await edit.getByLabel('Price').fill('13.75');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').getByText(`${name} is saved ($13.75)`).waitFor();
  await row.getByRole('cell', { name: '$13.75' }).waitFor();
  const priced = await expectApi(200, null, 'GET', `/products/${productId}`);
  assert.equal(String(priced.price), '13.75');
  assert.equal(priced.name, name);

  // 8. Stock: 5 in, then more out than there are (the 409, in words; nothing changes).
  await row.getByRole('button', { name: `Adjust stock of ${name}` }).click();
  const adjust = page.getByRole('form', { name: `Adjust stock of ${name}` });
  await adjust.getByLabel('Units to add').fill('5');
  await adjust.getByLabel('Reason (optional)').fill('Delivery from the potter');
  await adjust.getByRole('button', { name: 'Adjust stock', exact: true }).click();
  await page.getByRole('status').getByText(`${name}: 5 added, 8 in stock now`).waitFor();
  await row.getByRole('cell', { name: '8', exact: true }).waitFor();
  await row.getByRole('button', { name: `Adjust stock of ${name}` }).click();
  await adjust.getByLabel('Units to add').fill('-20');
  await adjust.getByRole('button', { name: 'Adjust stock', exact: true }).click();
  await alert.getByText('The stock was not changed').waitFor();
  assert.match(await alert.textContent(), /only 8 in stock/);
  await row.getByRole('cell', { name: '8', exact: true }).waitFor();
  await snap('stock-409');
  await adjust.getByRole('button', { name: 'Back' }).click();

  // 9. Retire it (after a confirmation): gone from the shop's catalogue.
  await row.getByRole('button', { name: `Retire ${name}` }).click();
  await page.getByText(`Retire ${name}? It leaves the catalogue`).waitFor();
  await page.getByRole('button', { name: 'Yes, retire it' }).click();
  await page.getByRole('status').getByText(`${name} is retired`).waitFor();
  assert.equal(await page.locator(`tr[data-product-id="${productId}"]`).count(), 0);
  await snap('retired');
  await filterCatalogue(page, category);
  await page.getByRole('heading', { name: stock.name }).waitFor();
  assert.equal(await page.getByRole('heading', { name }).count(), 0, 'the retired product is not on sale');
  await expectApi(404, null, 'GET', `/products/${productId}`);
  await snap('catalogue-without-it');
});
