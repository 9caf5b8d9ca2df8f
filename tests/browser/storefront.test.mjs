// The storefront clicked through in a real browser (Debian's chromium, driven by
// playwright-core): open the shop, sign in as a demo customer, filter by category, add two
// products, check out, see the exact total, see the statistics and the order on "my orders",
// update the profile, try to buy more than the stock. A screenshot of each step goes to
// $BROWSER_ARTIFACTS (target/browser-artifacts). Uses products of its own, made with an admin
// token, so that other tests on the same stack do not disturb it.
//
//   SHOP_API_URL=http://127.0.0.1:9000 SHOP_AUTH_DIR=.local/auth node tests/browser/storefront.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { fillDelivery } from './harness.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const base = (process.env.SHOP_API_URL ?? 'http://127.0.0.1:9000').replace(/\/$/, '');
const authDir = process.env.SHOP_AUTH_DIR ?? join(root, '.local/auth');
const artifacts = process.env.BROWSER_ARTIFACTS ?? join(root, 'target/browser-artifacts');
const python = process.env.PYTHON ?? 'python3';
// One of the demo customers the local stack offers (local/auth.py DEMO_CUSTOMERS).
const customer = 'Alan Turing';
const run = Date.now().toString(36);
const category = `Browser test ${run}`;

const admin = execFileSync(python, [join(root, 'local/auth.py'), 'token', authDir, '--admin']).toString().trim();

async function createProduct(name, price, stock) {
  const response = await fetch(`${base}/products`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ sku: `BROWSER-${run}-${stock}`, name, price, stock, category, description: 'Made by the browser test.' }),
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return JSON.parse(text);
}

/** Cents from the page's "$1,234.56". */
function cents(text) {
  const match = /^\$([\d,]+)\.(\d{2})$/.exec(text.trim());
  assert.ok(match, `an amount: ${text}`);
  return Number(match[1].replace(/,/g, '')) * 100 + Number(match[2]);
}

let step = 0;
async function snap(page, name) {
  step += 1;
  const path = join(artifacts, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`  step ${step}: ${name} (${path})`);
}

/** The customer's statistics as "my orders" shows them. */
async function shownStats(page) {
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#stats-orders, #stats-none').first().waitFor();
  if (await page.locator('#stats-none').count()) return { orders: 0, spent: 0 };
  return {
    orders: Number(await page.locator('#stats-orders').textContent()),
    spent: cents(await page.locator('#stats-spent').textContent()),
  };
}

async function filterCatalogue(page) {
  await page.getByRole('link', { name: 'Catalogue' }).click();
  await page.getByRole('heading', { level: 1, name: /^Catalogue/ }).waitFor();
  await page.getByLabel('Category', { exact: true }).fill(category);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('heading', { name: `Catalogue: ${category}` }).waitFor();
  const cards = page.getByRole('list', { name: 'Products' }).getByRole('listitem');
  await cards.first().getByRole('heading').waitFor();
  return cards;
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  const lamp = await createProduct(`Desk Lamp ${run}`, '19.99', 5);
  const mug = await createProduct(`Coffee Mug ${run}`, '7.35', 3);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const failures = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));

    // 1. The shop opens, with the catalogue.
    const started = Date.now();
    await page.goto(`${base}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    console.log(`  the shop was ready in ${Date.now() - started} ms`);
    await page.getByRole('heading', { name: 'Catalogue' }).waitFor();
    await snap(page, 'catalogue');

    // 2. Sign in as a demo customer; note the statistics before ordering.
    await page.getByLabel('Demo account').selectOption({ label: customer });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#account').getByText(`Signed in as ${customer}`).waitFor();
    await page.getByRole('link', { name: 'My orders' }).click();
    const before = await shownStats(page);
    await snap(page, 'signed-in');

    // 3. Filter by the test's category: exactly its two products.
    const cards = await filterCatalogue(page);
    assert.equal(await cards.count(), 2);
    await page.getByText('In stock: 5').waitFor();
    await snap(page, 'filtered');

    // 4. Two products into the cart; two lamps. The totals are exact.
    await page.getByRole('button', { name: `Add ${lamp.name} to cart` }).click();
    await page.getByRole('button', { name: `Add ${mug.name} to cart` }).click();
    await page.getByRole('link', { name: /Cart/ }).click();
    await page.getByLabel(`Quantity of ${lamp.name}`).fill('2');
    await page.getByLabel(`Quantity of ${lamp.name}`).press('Tab');
    assert.equal((await page.locator('#cart-total').textContent()).trim(), '$47.33');
    // Express shipping, chosen from the shop's methods: the cart shows its price.
    await fillDelivery(page, /^Express/);
    assert.equal((await page.locator('#cart-shipping').textContent()).trim(), '$15.99');
    await snap(page, 'cart');

    // 5. Check out with the keyboard; the confirmation shows the API's exact charges:
    //    47.33 + 15.99 = 63.32, and 7 % tax on it, 4.4324, is 4.43.
    await page.getByRole('button', { name: 'Place order' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /your order is placed/ }).waitFor();
    assert.equal((await page.locator('#order-subtotal').textContent()).trim(), '$47.33');
    assert.equal((await page.locator('#order-shipping').textContent()).trim(), '$15.99');
    assert.equal((await page.locator('#order-tax').textContent()).trim(), '$4.43');
    assert.equal((await page.locator('#order-total').textContent()).trim(), '$67.75');
    await page.locator('#ship-to').getByText('Alan Turing').waitFor();
    await snap(page, 'confirmation');

    // 6. "My orders": the consumer counts the order a moment later (the relay forwards events
    //    in windows of some seconds). Every refresh is two requests against the customer's
    //    rate limit: one every two seconds stays well inside it.
    await page.getByRole('link', { name: 'See my orders' }).click();
    let after = before;
    for (let attempt = 0; attempt < 30 && after.orders !== before.orders + 1; attempt += 1) {
      await page.waitForTimeout(attempt ? 2000 : 0);
      after = await shownStats(page);
    }
    assert.equal(after.orders, before.orders + 1, 'the order is counted once');
    assert.equal(after.spent, before.spent + 6775, 'the total spent grows by the exact total charged');
    await page.locator('li.order .amount-text', { hasText: '$67.75' }).first().waitFor();
    await snap(page, 'my-orders');

    // 7. The profile: the API's validation errors are listed beside the form, then a valid update.
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.locator('#profile-status').filter({ hasNotText: 'Loading' }).waitFor();
    await page.getByLabel('E-mail').fill('not-an-e-mail');
    await page.getByRole('button', { name: 'Save profile' }).click();
    const problems = page.locator('#profile-problems');
    await problems.getByText('Please correct the following').waitFor();
    assert.match(await problems.textContent(), /email/i);
    await snap(page, 'profile-invalid');
    await page.getByLabel('Name', { exact: true }).fill(customer);
    await page.getByLabel('E-mail').fill('alan@example.com');
    await page.getByLabel('Street').fill('1 Bletchley Park');
    await page.getByLabel('City').fill('Milton Keynes');
    await page.getByLabel('ZIP code').fill('MK3 6EB');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByRole('status').getByText('Profile saved').waitFor();
    await snap(page, 'profile-saved');

    // 8. More mugs than are left: the 409 is shown in words, and the page stays usable.
    await filterCatalogue(page);
    await page.getByText('In stock: 2').waitFor();
    await page.getByRole('button', { name: `Add ${mug.name} to cart` }).click();
    await page.getByRole('link', { name: /Cart/ }).click();
    await page.getByLabel(`Quantity of ${mug.name}`).fill('3');
    await page.getByLabel(`Quantity of ${mug.name}`).press('Tab');
    await page.getByText('Only 2 in stock').waitFor();
    await fillDelivery(page);
    await page.getByRole('button', { name: 'Place order' }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('Not enough stock').waitFor();
    assert.match(await alert.textContent(), /Requested: 3, Available: 2/);
    assert.ok(await page.getByRole('button', { name: 'Place order' }).isEnabled(), 'the cart stays usable');
    await snap(page, 'out-of-stock');
  } catch (error) {
    const pages = browser.contexts().flatMap((context) => context.pages());
    if (pages.length) await pages[0].screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
  assert.deepEqual(failures, []);
  console.log(`storefront browser test passed (${step} steps, screenshots in ${artifacts})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
