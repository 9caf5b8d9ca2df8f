// The profile page in a real browser, for a customer of the test's own: no profile yet (an
// empty form), a bad e-mail listed beside the form, a good save, the address changed, the
// export downloaded (and its JSON holds the profile), then the account deleted after a
// confirmation: signed out, and the session held before refused when used again. Screenshots in
// target/browser-artifacts/profile-*.png.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/profile.test.mjs

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { browserTest, newCustomer, offerAccounts, openShop, signIn } from './harness.mjs';

const customer = newCustomer('Profile test customer');

async function openProfile(page) {
  await page.getByRole('link', { name: 'Profile' }).click();
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();
  await page.locator('#profile-status').filter({ hasNotText: 'Loading' }).waitFor();
}

await browserTest('profile', async (page, snap) => {
  await offerAccounts(page, [customer]);
  await openShop(page);
  await signIn(page, customer.name);

  // 1. A new customer has no profile: an empty form.
  await openProfile(page);
  await page.getByText('You have no profile yet').waitFor();
  for (const label of ['Name', 'E-mail', 'Street', 'City', 'ZIP code']) {
    assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), '', `${label} starts empty`);
  }
  await snap('no-profile');

  // 2. A bad e-mail: the API's problems are listed beside the form, the field marked.
  await page.getByLabel('Name', { exact: true }).fill(customer.name);
  await page.getByLabel('E-mail').fill('not-an-e-mail');
  await page.getByLabel('Street').fill('12 Analytical Row');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('ZIP code').fill('N1 9GU');
  await page.getByRole('button', { name: 'Save profile' }).click();
  const problems = page.locator('#profile-problems');
  await problems.getByText('Please correct the following').waitFor();
  assert.match(await problems.textContent(), /email/i);
  assert.equal(await problems.getAttribute('role'), 'alert');
  assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByLabel('Street').getAttribute('aria-invalid'), null, 'only the e-mail is wrong');
  await snap('bad-email');

  // 3. A good e-mail saves; the problems go.
  const email = `profile-${customer.id.slice(0, 8)}@example.com`;
  await page.getByLabel('E-mail').fill(email);
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('status').getByText('Profile saved').waitFor();
  assert.equal((await problems.textContent()).trim(), '');
  assert.equal(await page.getByLabel('E-mail').getAttribute('aria-invalid'), null);

  // 4. A new address, saved and read back.
  await page.getByLabel('Street').fill('1 Difference Engine Lane');
  await page.getByLabel('ZIP code').fill('EC1 4AB');
  await page.getByRole('button', { name: 'Save profile' }).press('Enter');
  await page.getByRole('status').getByText('Profile saved').waitFor();
  await page.getByRole('link', { name: 'Catalogue', exact: true }).click();
  await openProfile(page);
  assert.equal(await page.getByLabel('Street').inputValue(), '1 Difference Engine Lane');
  assert.equal(await page.getByLabel('City').inputValue(), 'London');
  assert.equal(await page.getByLabel('ZIP code').inputValue(), 'EC1 4AB');
  assert.equal(await page.getByLabel('E-mail').inputValue(), email);
  await snap('saved');

  // 5. The export: a download named for the customer, holding the profile.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my data' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `shop-export-${customer.id}.json`);
  const exported = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(exported.customerId, customer.id);
  assert.equal(exported.profile.email, email);
  assert.equal(exported.profile.name, customer.name);
  assert.deepEqual(exported.profile.shippingAddress, { street: '1 Difference Engine Lane', city: 'London', zipCode: 'EC1 4AB' });
  assert.ok(Array.isArray(exported.orders), 'the export lists the orders');
  await page.getByRole('status').getByText(`shop-export-${customer.id}.json`).waitFor();
  await snap('exported');

  // 6. Delete the account: a confirmation first ("keep" changes nothing), then signed out.
  await page.getByRole('button', { name: 'Delete my account…' }).click();
  await page.getByRole('button', { name: 'Keep my account' }).click();
  await page.getByRole('button', { name: 'Delete my account…' }).click();
  await page.getByText('This cannot be undone').waitFor();
  await snap('delete-confirmation');
  await page.getByRole('button', { name: 'Yes, delete my account' }).click();
  await page.getByRole('status').getByText('Your account is deleted, and you are signed out').waitFor();
  await page.getByLabel('Demo account').waitFor();
  assert.equal(await page.locator('#account').getByText('Signed in as').count(), 0);
  await snap('deleted');

  // 7. Signing in again with the token held before: the erasure revoked it, and the shop asks
  // to sign in again rather than show anything of the account.
  await signIn(page, customer.name);
  await openProfile(page);
  await page.getByText('Your profile could not be loaded.').waitFor();
  await page.getByText('Please sign in: your session is missing or has expired.').waitFor();
  assert.equal(await page.getByLabel('E-mail').count(), 0);
  await snap('old-session-refused');
});
