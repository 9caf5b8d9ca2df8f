// The API documentation page (/api/docs) rendered in a real browser: Swagger UI, bundled in
// the api-docs function, loads under the page's Content-Security-Policy, reads the served
// OpenAPI document and lists every operation; nothing but the API's own origin is asked.
//
//   SHOP_API_URL=http://127.0.0.1:9000 node tests/browser/docs.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const base = (process.env.SHOP_API_URL ?? 'http://127.0.0.1:9000').replace(/\/$/, '');
const artifacts = process.env.BROWSER_ARTIFACTS ?? join(root, 'target/browser-artifacts');
mkdirSync(artifacts, { recursive: true });

const document = await (await fetch(`${base}/api/openapi.json`)).json();
const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems = [];
  const origins = new Set();
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('request', (request) => origins.add(new URL(request.url()).origin));
  // The browser's own favicon request is the only 404 allowed.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      problems.push(`${response.status()} ${response.url()}`);
    }
  });
  await page.goto(`${base}/api/docs`);
  await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.opblock').count(), operations, 'every operation is listed');
  await page.getByText('Shop API').first().waitFor();
  await page.screenshot({ path: join(artifacts, 'docs.png') });
  assert.deepEqual(problems, []);
  assert.deepEqual([...origins], [new URL(base).origin], 'only the API itself is asked');
  console.log(`docs page test passed (${operations} operations, screenshot ${join(artifacts, 'docs.png')})`);
} finally {
  await browser.close();
}
