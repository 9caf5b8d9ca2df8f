// What the storefront's browser tests share: where the shop is, tokens from the local issuer
// (local/auth.py, as `make token` mints them), the API called directly (as another admin or
// the customer's other device would), people of the test's own offered in the page's demo
// sign-in, screenshots of each step, and chromium itself.
//
//   SHOP_API_URL   the shop (the local gateway), http://127.0.0.1:9000 by default
//   SHOP_AUTH_DIR  the local issuer's keys, .local/auth by default
//   PYTHON         the Python with local/auth.py's dependencies: the repo's .venv by default

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const base = (process.env.SHOP_API_URL ?? 'http://127.0.0.1:9000').replace(/\/$/, '');
export const authDir = process.env.SHOP_AUTH_DIR ?? join(root, '.local/auth');
export const artifacts = process.env.BROWSER_ARTIFACTS ?? join(root, 'target/browser-artifacts');
const venvPython = join(root, '.venv/bin/python');
const python = process.env.PYTHON ?? (existsSync(venvPython) ? venvPython : 'python3');
/** Tells this run's products, categories and people apart from every other run's. */
export const run = Date.now().toString(36);

function mint(...who) {
  return execFileSync(python, [join(root, 'local/auth.py'), 'token', authDir, ...who]).toString().trim();
}

export function adminToken() {
  return mint('--admin');
}

/** A customer no one else uses: a fresh id and its token. */
export function newCustomer(name) {
  const id = randomUUID();
  return { id, name: `${name} ${run}`, token: mint('--customer', id) };
}

/** The claims of a token (to name the admin the local issuer signs for). */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

/**
 * The API, called directly.
 * @returns {Promise<{status: number, body: any, text: string}>}
 */
export async function api(token, method, path, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed, text };
}

/** `api` expecting `status`: the body, or the test fails with what the API said. */
export async function expectApi(status, token, method, path, body) {
  const answer = await api(token, method, path, body);
  assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
  return answer.body;
}

export async function createProduct(admin, { name, price, stock, category }) {
  return expectApi(201, admin, 'POST', '/products', {
    sku: `BROWSER-${run}-${randomUUID().slice(0, 8)}`, name, price, stock, category, description: 'Made by a browser test.',
  });
}

/**
 * Offers `accounts` ({id, name, token, admin?}) in the page's demo sign-in beside the stack's
 * own, by answering /shop/config.js with them added: the test signs in through the page as a
 * person only it uses.
 * @returns {Promise<{demo: {id: string, name: string, admin?: boolean}[]}>} the stack's own list, as served
 */
export async function offerAccounts(page, accounts) {
  const served = { demo: [] };
  await page.route('**/shop/config.js', async (route) => {
    let response;
    let text;
    try {
      response = await route.fetch();
      text = await response.text();
    } catch (error) {
      // Without its settings the page cannot start: say so now rather than time out later.
      console.error(`the shop's settings, ${base}/shop/config.js, could not be read: ${error.message.split('\n')[0]}`);
      process.exit(1);
    }
    assert.equal(response.status(), 200, `${base}/shop/config.js: ${text.slice(0, 200)}`);
    const match = /^export default (.*);\s*$/s.exec(text);
    assert.ok(match, `config.js as the gateway writes it: ${text.slice(0, 200)}`);
    const config = JSON.parse(match[1]);
    served.demo = config.signIn?.demo ?? [];
    config.signIn = { ...(config.signIn ?? {}), demo: [...served.demo, ...accounts] };
    await route.fulfill({ response, body: `export default ${JSON.stringify(config)};\n` });
  });
  return served;
}

export async function signIn(page, name) {
  await page.getByLabel('Demo account').selectOption({ label: name });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#account').getByText(`Signed in as ${name}`).waitFor();
}

/** Cents from the page's "$1,234.56". */
export function cents(text) {
  const match = /^\$([\d,]+)\.(\d{2})$/.exec(text.trim());
  assert.ok(match, `an amount: ${text}`);
  return Number(match[1].replace(/,/g, '')) * 100 + Number(match[2]);
}

/**
 * Runs one browser test: a fresh chromium, a page that fails the test on any script error,
 * a screenshot per step (`snap`), and one of the failure.
 * @param {string} name e.g. "orders": names the screenshots and the report line
 * @param {(page: import('playwright-core').Page, snap: (step: string) => Promise<void>) => Promise<void>} body
 */
export async function browserTest(name, body) {
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const failures = [];
  let step = 0;
  let page;
  try {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) failures.push(`console error: ${message.text()}`);
    });
    const snap = async (label) => {
      step += 1;
      const path = join(artifacts, `${name}-${String(step).padStart(2, '0')}-${label}.png`);
      await page.screenshot({ path, fullPage: true });
      console.log(`  step ${step}: ${label} (${path})`);
    };
    await body(page, snap);
  } catch (error) {
    if (page) await page.screenshot({ path: join(artifacts, `${name}-failure.png`), fullPage: true }).catch(() => {});
    console.error(error);
    await browser.close();
    process.exit(1);
  }
  await browser.close();
  if (failures.length) {
    console.error(failures.join('\n'));
    process.exit(1);
  }
  console.log(`${name} browser test passed (${step} steps, screenshots in ${artifacts})`);
}

/** Opens the shop and waits until it is ready. */
export async function openShop(page) {
  await page.goto(`${base}/`);
  await page.locator('body[data-ready="true"]').waitFor();
}

/** The catalogue filtered to `category`, as a shopper sees it. */
export async function filterCatalogue(page, category) {
  await page.getByRole('link', { name: 'Catalogue', exact: true }).click();
  // The link only changes the hash: wait until the catalogue has replaced the page before typing.
  await page.getByRole('heading', { level: 1, name: /^Catalogue/ }).waitFor();
  await page.getByLabel('Category', { exact: true }).fill(category);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('heading', { name: `Catalogue: ${category}` }).waitFor();
}

/** Fills the cart's delivery form: an address in the United States, shipped `method` (its label). */
export async function fillDelivery(page, method = /^Standard/) {
  await page.getByLabel('Full name').fill('Alan Turing');
  await page.getByLabel('Street').fill('1 Bletchley Park');
  await page.getByLabel('City').fill('Milton Keynes');
  await page.getByLabel('Postal code').fill('MK3 6EB');
  await page.getByLabel(/^Country code/).fill('us');
  await page.getByLabel(method).check();
}
