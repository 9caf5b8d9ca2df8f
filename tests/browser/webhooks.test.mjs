// The admin's webhooks page in a real browser: register an endpoint (its secret shown once),
// see an order's delivery to it with its failed attempt (nothing listens at its address),
// retry it, disable it, rotate its secret (a new one shown once) and delete it.
// Screenshots in target/browser-artifacts/webhooks-*.png.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/webhooks.test.mjs

import assert from 'node:assert/strict';
import {
  adminToken, browserTest, claimsOf, createProduct, expectApi, newCustomer, offerAccounts, openShop, run,
} from './harness.mjs';

const admin = adminToken();
const customer = newCustomer('Webhooks test customer');
const product = await createProduct(admin, { name: `Kettle ${run}`, price: '20.00', stock: 5, category: `Webhooks test ${run}` });
// Loopback, which only the local stack allows, on a port nothing listens on.
const url = `http://127.0.0.1:9/browser-${run}`;

await browserTest('webhooks', async (page, snap) => {
  const testAdmin = { id: claimsOf(admin).sub, name: `Webhooks admin ${run}`, token: admin, admin: true };
  const served = await offerAccounts(page, [testAdmin]);
  await openShop(page);
  // The stack's own demo admin when its list has one (the page signs in as it), else the test's.
  const adminName = served.demo.find((entry) => entry.admin === true)?.name ?? testAdmin.name;
  await page.getByLabel('Demo account').selectOption({ label: `${adminName} (admin)` });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account').getByText(`Signed in as ${adminName} (admin)`).waitFor();
  page.on('dialog', (dialog) => dialog.accept());

  // 1. A new endpoint for order_created: its secret is shown once.
  await page.getByRole('link', { name: 'Webhooks' }).click();
  await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
  await page.getByLabel('URL').fill('not a url');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByText('url must be an absolute http or https URL').waitFor();
  await page.getByText(/events must be a non-empty list/).waitFor();
  await page.getByLabel('URL').fill(url);
  await page.getByLabel('order_created').check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = page.locator('#webhook-secret code.secret');
  await secret.waitFor();
  const first = (await secret.textContent()).trim();
  assert.match(first, /^whsec_[A-Za-z0-9+/=]{40,}$/);
  const card = page.locator('li.webhook', { hasText: url });
  await card.getByText('delivering').waitFor();
  await snap('registered');

  // 2. An order: its delivery is listed with the failed attempt (nothing answers there).
  const order = await expectApi(201, customer.token, 'POST', '/orders', { items: [{ productId: product.id, quantity: 1 }] });
  const row = card.locator('tr', { hasText: 'order_created' }).filter({ hasText: /refused|connect|error/i }).first();
  for (let tries = 0; tries < 60 && !(await row.isVisible()); tries += 1) {
    await card.getByRole('button', { name: `Show deliveries: ${url}` }).click();
    await page.waitForTimeout(500);
  }
  await row.waitFor();
  const deliveryId = await row.getAttribute('data-delivery-id');
  const deliveries = await expectApi(200, admin, 'GET', `/webhooks/${await card.getAttribute('data-webhook-id')}/deliveries?limit=100`);
  const delivery = deliveries.data.find((d) => d.id === deliveryId);
  assert.ok(delivery.payload.includes(order.id), 'the delivery shown is of the order placed');
  await snap('deliveries');

  // 3. Retried now, from the page. The deliverer may be making an attempt of its own at that
  // moment: then the page says the retry was refused (409), and the admin retries once the
  // attempt is done, as the message asks.
  const retried = page.getByRole('status').getByText('The order_created delivery is retried now.');
  const busy = page.getByText('Not retried. An attempt of this delivery is under way');
  for (let tries = 0; tries < 60; tries += 1) {
    await row.getByRole('button', { name: /Retry the order_created delivery/ }).click();
    await retried.or(busy).first().waitFor();
    if (await retried.isVisible()) break;
    await page.waitForTimeout(500);
  }
  await retried.waitFor();

  // 4. Disabled, then its secret rotated: a new one, shown once.
  await card.getByRole('button', { name: `Disable: ${url}` }).click();
  await page.getByRole('status').getByText(`${url} is disabled.`).waitFor();
  await card.getByText('disabled').waitFor();
  await card.getByRole('button', { name: `Rotate secret: ${url}` }).click();
  await page.locator('#webhook-secret').getByText(`Rotated ${url}`).waitFor();
  const second = (await secret.textContent()).trim();
  assert.notEqual(second, first);
  await snap('rotated');

  // 5. Deleted.
  await card.getByRole('button', { name: `Delete: ${url}` }).click();
  await page.getByRole('status').getByText(`${url} is deleted.`).waitFor();
  // Gone from the list once the page has read it again.
  await page.locator('li.webhook', { hasText: url }).waitFor({ state: 'detached' });
  await snap('deleted');
});
