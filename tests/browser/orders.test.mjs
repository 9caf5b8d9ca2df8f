// A customer's orders in a real browser: place an order through the shop, see it CREATED with
// its history, cancel it with a reason, see it CANCELLED with the customer's reason in its
// history and the stock back in the catalogue; then an order the shop started processing
// meanwhile refuses the cancellation, in words, and shows where it is now. A customer and a
// product of the test's own; screenshots in target/browser-artifacts/orders-*.png.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/orders.test.mjs

import assert from 'node:assert/strict';
import {
  adminToken, browserTest, createProduct, expectApi, fillDelivery, filterCatalogue, newCustomer, offerAccounts, openShop, run, signIn,
} from './harness.mjs';

const category = `Orders test ${run}`;
const admin = adminToken();
const customer = newCustomer('Orders test customer');
const kettle = await createProduct(admin, { name: `Kettle ${run}`, price: '24.95', stock: 4, category });

await browserTest('orders', async (page, snap) => {
  await offerAccounts(page, [customer]);
  await openShop(page);
  await signIn(page, customer.name);

  // 1. Two kettles through the cart and checkout.
  await filterCatalogue(page, category);
  await page.getByText('In stock: 4').waitFor();
  await page.getByRole('button', { name: `Add ${kettle.name} to cart` }).click();
  await page.getByRole('link', { name: /Cart/ }).click();
  await page.getByLabel(`Quantity of ${kettle.name}`).fill('2');
  await page.getByLabel(`Quantity of ${kettle.name}`).press('Tab');
  await fillDelivery(page);
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('heading', { name: /your order is placed/ }).waitFor();
  const orderId = (await page.locator('main code').first().textContent()).trim();
  const short = orderId.slice(0, 8);
  await filterCatalogue(page, category);
  await page.getByText('In stock: 2').waitFor();
  await snap('placed');

  // 2. "My orders": the order is CREATED, and its history says so, by the customer.
  await page.getByRole('link', { name: 'My orders' }).click();
  const card = page.locator(`li.order[data-order-id="${orderId}"]`);
  await card.getByRole('heading', { name: `Order ${short}` }).waitFor();
  assert.equal((await card.locator('.order-status').textContent()).trim(), 'CREATED');
  await card.getByText('Items and history').click();
  const history = card.getByRole('table', { name: 'History' });
  await history.getByRole('row').nth(1).waitFor();
  assert.equal(await history.getByRole('row').count(), 2, 'a heading row and CREATED');
  assert.match(await history.getByRole('row').nth(1).textContent(), /CREATED.*Customer/);
  assert.match(await card.getByRole('table', { name: 'What was ordered' }).textContent(), /\$24\.95.*\$49\.90/);
  await snap('created-with-history');

  // 3. Cancel it, with a reason, from the keyboard.
  await card.getByRole('button', { name: `Cancel order ${short}` }).focus();
  await page.keyboard.press('Enter');
  await page.getByLabel('Reason (optional)').fill('Ordered the wrong colour');
  await snap('cancelling');
  await page.keyboard.press('Enter');
  await page.getByRole('status').getByText(`Order ${short} is cancelled`).waitFor();
  assert.equal((await card.locator('.order-status').textContent()).trim(), 'CANCELLED');
  assert.equal(await history.getByRole('row').count(), 3, 'CREATED, then CANCELLED');
  assert.match(await history.getByRole('row').nth(2).textContent(), /CANCELLED.*Customer.*Reason: Ordered the wrong colour/);
  assert.equal(await card.getByRole('button', { name: /Cancel/ }).count(), 0, 'a cancelled order offers no cancel');
  await snap('cancelled-with-history');

  // 4. The two kettles are back on sale.
  await filterCatalogue(page, category);
  await page.getByText('In stock: 4').waitFor();
  await snap('stock-back');

  // 5. The status filter: only the cancelled ones.
  await page.getByRole('link', { name: 'My orders' }).click();
  await page.getByLabel('Status').selectOption('CANCELLED');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText(/Showing 1 of 1 CANCELLED orders/).waitFor();
  await card.waitFor();

  // 6. An order the shop starts processing while the page still shows it CREATED: the
  //    cancellation is refused in words, and the order is shown as it is now.
  const second = await expectApi(201, customer.token, 'POST', '/orders', { items: [{ productId: kettle.id, quantity: 1 }] });
  await page.getByLabel('Status').selectOption('');
  await page.getByRole('button', { name: 'Filter' }).click();
  const secondCard = page.locator(`li.order[data-order-id="${second.id}"]`);
  await secondCard.locator('.order-status', { hasText: 'CREATED' }).waitFor();
  await expectApi(200, admin, 'PATCH', `/orders/${second.id}`, { status: 'PROCESSING' });
  await secondCard.getByRole('button', { name: `Cancel order ${second.id.slice(0, 8)}` }).click();
  await page.getByRole('button', { name: 'Yes, cancel the order' }).click();
  const alert = page.locator('#error');
  await alert.getByText('The order was not cancelled').waitFor();
  assert.match(await alert.textContent(), /PROCESSING and can no longer be cancelled/);
  await secondCard.locator('.order-status', { hasText: 'PROCESSING' }).waitFor();
  assert.equal(await secondCard.getByRole('button', { name: /Cancel/ }).count(), 0);
  await snap('cancel-refused');
});
