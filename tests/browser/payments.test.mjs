// Paying for an order in a real browser, at the stack's local Stripe (the page confirms the
// payment there itself, under the shop's Content-Security-Policy): a customer checks out and
// sees the payment waiting for them; pays with a card that has insufficient funds, then with
// one declined without a reason, and sees each decline, with the form left to try again; pays
// with Visa and sees it authorised. An admin cannot process an order its customer has not paid
// (the 409, in words); the paid one is processed and shipped (its payment captured), then
// partly refunded through the shop orders page, where a refund of more than is left is refused
// in words. The customer's "my orders" shows the payment partly refunded, and an unpaid order
// they cancel its payment released. A customer and a product of the test's own; screenshots in
// target/browser-artifacts/payments-*.png.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/payments.test.mjs

import assert from 'node:assert/strict';
import {
  adminToken, api, browserTest, cents, claimsOf, createProduct, expectApi, fillDelivery, filterCatalogue, newCustomer,
  offerAccounts, openShop, run, signIn,
} from './harness.mjs';

const category = `Payments test ${run}`;
const admin = adminToken();
const customer = newCustomer('Payments test customer');
const testAdmin = { id: claimsOf(admin).sub, name: `Payments admin ${run}`, token: admin, admin: true };
const teapot = await createProduct(admin, { name: `Teapot ${run}`, price: '40.00', stock: 5, category });
const address = { fullName: 'Ada Lovelace', street: '12 St James Square', city: 'London', zipCode: 'SW1Y 4JH', country: 'GB' };

// The stack must take payments (its local Stripe): otherwise there is nothing to test here.
const probe = await expectApi(201, customer.token, 'POST', '/orders', {
  items: [{ productId: teapot.id, quantity: 1 }], shippingAddress: address, shippingMethod: 'standard',
});
if (!probe.payment) {
  console.error('payments browser test: the stack takes no payments (started with LOCAL_STRIPE=0?)');
  process.exit(1);
}
// Left unpaid, for the admin to try to process.
const unpaid = probe;

/** Reads the order as `token` until `done(order)`, for up to 20 s. */
async function orderOnce(token, orderId, done) {
  let order;
  for (let attempt = 0; attempt < 40; attempt += 1) {
    order = (await api(token, 'GET', `/orders/${orderId}`)).body;
    if (done(order)) return order;
    await new Promise((resolve) => { setTimeout(resolve, 500); });
  }
  assert.fail(`order ${orderId} as it is: ${JSON.stringify(order)}`);
}

await browserTest('payments', async (page, snap) => {
  const served = await offerAccounts(page, [customer, testAdmin]);
  // What the page asks of the payment provider: the confirmations, and nothing else.
  const confirmations = [];
  page.on('request', (request) => {
    if (/\/v1\/payment_intents\/[^/]+\/confirm$/.test(new URL(request.url()).pathname) && request.method() === 'POST') {
      confirmations.push(request);
    }
  });
  await openShop(page);
  // The stack's own demo admin when it has one (the same person as the test's: of two entries
  // with one id, the first is the one signed in as), else the test's.
  const adminName = served.demo.find((entry) => entry.admin === true)?.name ?? testAdmin.name;
  await signIn(page, customer.name);

  // 1. Two teapots through the cart and checkout: the payment waits for the customer.
  await filterCatalogue(page, category);
  await page.getByRole('button', { name: `Add ${teapot.name} to cart` }).click();
  await page.getByRole('link', { name: /Cart/ }).click();
  await page.getByLabel(`Quantity of ${teapot.name}`).fill('2');
  await page.getByLabel(`Quantity of ${teapot.name}`).press('Tab');
  await fillDelivery(page);
  await page.getByRole('button', { name: 'Place order' }).click();
  await page.getByRole('heading', { name: /your order is placed/ }).waitFor();
  const orderId = (await page.locator('main code').first().textContent()).trim();
  const short = orderId.slice(0, 8);
  const total = (await page.locator('#order-total').textContent()).trim();
  const section = page.getByRole('region', { name: 'Payment' });
  const status = section.locator('.payment-status');
  await status.getByText('Payment: waiting for you to pay, by').waitFor();
  assert.match(await status.locator('time').getAttribute('datetime'), /^\d{4}-\d{2}-\d{2}T/);
  const form = section.getByRole('form', { name: `Pay for order ${short}` });
  await form.getByText('These are the payment provider\'s test cards').waitFor();
  const cards = form.getByRole('group', { name: 'Pay with' });
  assert.deepEqual(await cards.getByRole('radio').evaluateAll((radios) => radios.map((radio) => radio.labels[0].textContent)),
    ['Visa (pays)', 'Declined card', 'Insufficient funds']);
  assert.ok(await form.getByLabel('Visa (pays)').isChecked(), 'Visa is chosen to start with');
  const pay = form.getByRole('button', { name: `Pay ${total}` });
  await pay.waitFor();
  await snap('waiting-for-payment');

  // 2. A card with insufficient funds: declined, in words; the form stays to try again.
  await form.getByLabel('Insufficient funds').check();
  await pay.click();
  const alert = page.locator('#error');
  await alert.getByText('Your card was declined: insufficient funds').waitFor();
  await status.getByText('Payment declined: insufficient funds').waitFor();
  assert.equal(await alert.getAttribute('role'), 'alert');
  await pay.waitFor();
  assert.ok(await pay.isEnabled(), 'the form stays to try again');
  assert.equal(confirmations.length, 1);
  const sent = confirmations[0];
  const headers = await sent.allHeaders();
  assert.equal(headers.authorization, 'Bearer pk_test_local');
  assert.match(headers['content-type'], /^application\/x-www-form-urlencoded/);
  const body = new URLSearchParams(sent.postData());
  assert.equal(body.get('payment_method'), 'pm_card_chargeDeclinedInsufficientFunds');
  assert.match(body.get('client_secret'), /^pi_.+_secret_/);
  const declined = await expectApi(200, customer.token, 'GET', `/orders/${orderId}`);
  assert.equal(declined.payment.status, 'FAILED');
  assert.equal(declined.payment.declineReason, 'insufficient_funds');
  await snap('declined');

  // A card declined without a reason: declined again, in words; the form still there.
  await form.getByLabel('Declined card').check();
  await pay.click();
  await alert.getByText('Your card was declined. Choose another card and try again.').waitFor();
  await status.getByText(/^Payment declined\. You can pay with another card until/).waitFor();
  await pay.waitFor();
  assert.equal(confirmations.length, 2);

  // 3. Visa: authorised; nothing left to pay.
  await form.getByLabel('Visa (pays)').check();
  await pay.click();
  await status.getByText('Payment authorised').waitFor();
  await page.getByRole('status').getByText('Payment authorised: thank you').waitFor();
  assert.equal(await form.count(), 0, 'nothing left to pay');
  assert.equal(await alert.textContent(), '', 'the decline is gone');
  const authorised = await expectApi(200, customer.token, 'GET', `/orders/${orderId}`);
  assert.equal(authorised.payment.status, 'AUTHORIZED');
  assert.equal(Math.round(authorised.payment.authorized * 100), cents(total));
  assert.equal(authorised.payment.clientSecret, undefined, 'no secret once paid');
  await snap('authorised');

  // 4. "My orders" shows it authorised, with nothing to pay; the unpaid one waits for payment.
  await page.getByRole('link', { name: 'See my orders' }).click();
  const card = page.locator(`li.order[data-order-id="${orderId}"]`);
  await card.locator('.payment-status', { hasText: 'Payment authorised' }).waitFor();
  assert.equal(await card.getByRole('form', { name: /^Pay for/ }).count(), 0, 'nothing left to pay');
  const unpaidCard = page.locator(`li.order[data-order-id="${unpaid.id}"]`);
  await unpaidCard.locator('.payment-status', { hasText: 'Payment: waiting for you to pay' }).waitFor();
  await unpaidCard.getByRole('form', { name: `Pay for order ${unpaid.id.slice(0, 8)}` }).waitFor();
  await snap('my-orders-authorised');

  // 5. The admin's shop orders: the unpaid order cannot be processed (in words); the paid one
  //    is processed and shipped from the page, capturing its payment.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Demo account').selectOption({ label: `${adminName} (admin)` });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account').getByText(`Signed in as ${adminName} (admin)`).waitFor();
  await page.getByRole('link', { name: 'Shop orders' }).click();
  await page.getByRole('heading', { name: 'Shop orders' }).waitFor();
  const adminCard = (id) => page.locator(`li.order[data-order-id="${id}"]`);
  const paid = adminCard(orderId);
  await paid.locator('.payment-status', { hasText: 'Authorised' }).waitFor();
  assert.equal((await paid.locator('.payment-authorized').textContent()).trim(), total);
  assert.equal((await paid.locator('.payment-captured').textContent()).trim(), '$0.00');
  await adminCard(unpaid.id).locator('.payment-status', { hasText: 'Waiting for the customer to pay' }).waitFor();
  await adminCard(unpaid.id).getByRole('button', { name: `Start processing: order ${unpaid.id.slice(0, 8)}` }).click();
  await alert.getByText('The order was not moved: the customer has not paid for it yet').waitFor();
  assert.match(await alert.textContent(), /PENDING.*once the payment is authorised/);
  await adminCard(unpaid.id).locator('.order-status', { hasText: 'CREATED' }).waitFor();
  await snap('unpaid-not-processed');

  await paid.getByRole('button', { name: `Start processing: order ${short}` }).click();
  await page.getByRole('status').getByText(`Order ${short} is now PROCESSING`).waitFor();
  await paid.getByRole('button', { name: `Mark shipped: order ${short}` }).click();
  await paid.getByLabel('Tracking reference').fill('1Z999AA10123456784');
  await paid.getByRole('button', { name: 'Mark shipped', exact: true }).click();
  await page.getByRole('status').getByText(`Order ${short} is now SHIPPED; its payment of ${total} is captured`).waitFor();
  await paid.locator('.payment-status', { hasText: 'Paid (captured)' }).waitFor();
  assert.equal((await paid.locator('.payment-captured').textContent()).trim(), total);
  await snap('shipped-captured');

  // 6. A refund of part of it: the amount offered is what is left; more than that is refused
  //    in words (the form kept); $10.00 is refunded.
  await paid.getByRole('button', { name: `Refund: order ${short}` }).click();
  const refund = paid.getByRole('form', { name: `Refund order ${short}` });
  const amount = refund.getByLabel('Amount');
  assert.equal(await amount.inputValue(), (cents(total) / 100).toFixed(2));
  await amount.fill(((cents(total) + 100) / 100).toFixed(2));
  await refund.getByRole('button', { name: 'Refund', exact: true }).click();
  await alert.getByText('Nothing was refunded: that is more than is left to refund').waitFor();
  assert.match(await alert.textContent(), new RegExp(`At most ${(cents(total) / 100).toFixed(2).replace('.', '\\.')}`));
  await amount.waitFor();
  await snap('refund-too-much');
  await amount.fill('10');
  await refund.getByLabel('Reason (optional)').fill('Chipped lid');
  await refund.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('status').getByText(`Refunded $10.00 of order ${short}`).waitFor();
  await paid.locator('.payment-status', { hasText: 'Partly refunded: $10.00' }).waitFor();
  assert.equal((await paid.locator('.payment-refunded').textContent()).trim(), '$10.00');
  const refunded = await expectApi(200, admin, 'GET', `/orders/${orderId}`);
  assert.equal(refunded.payment.status, 'PARTIALLY_REFUNDED');
  assert.equal(refunded.payment.refunded, 10);
  await snap('partly-refunded');

  // 7. The customer's "my orders": the payment partly refunded.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, customer.name);
  await page.getByRole('link', { name: 'My orders' }).click();
  await card.locator('.payment-status', { hasText: `Partly refunded: $10.00 of the ${total} you paid` }).waitFor();
  await snap('my-orders-refunded');

  // The unpaid order, cancelled by its customer: its payment released.
  await expectApi(200, customer.token, 'POST', `/orders/${unpaid.id}/cancel`);
  await orderOnce(customer.token, unpaid.id, (order) => order.payment?.status === 'VOIDED');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await unpaidCard.locator('.payment-status', { hasText: 'Payment released' }).waitFor();
  await snap('cancelled-released');
  assert.equal(confirmations.length, 3, 'the page confirmed three times, and only at the provider');
});
