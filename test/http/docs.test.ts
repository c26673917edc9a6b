// The reference page at /docs, in a real browser (Debian's chromium through playwright-core):
// it renders every operation of the document, loads nothing from anywhere but gmemd, and its
// "try it" sends a real request that the server executes (a VM appears in the ledger).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { makeApp } from '../support/app.js';
import { tempDir } from '../support/tmp.js';

const CHROMIUM = '/usr/bin/chromium';

test('/docs HTML and scripts name no external URL', async () => {
  const t = await makeApp('simulated');
  try {
    const page = await t.app.inject({ method: 'GET', url: '/docs/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger-ui-bundle\.js/);
    const init = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
    // Every resource the page loads is a relative path under /docs (the browser test below
    // also watches the network); Swagger UI's validator badge, fetched from the internet by
    // default, is off.
    const refs = [...page.body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(refs.length >= 4, refs.join(' '));
    for (const r of refs) assert.match(r, /^(\.\/|\/docs\/)static\//, r);
    assert.match(init.body, /validatorUrl: ?null/);
    const json = await t.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(json.json().openapi, '3.1.0');
  } finally { await t.close(); }
});

test('the page renders every operation in Chromium and "try it" reaches the server', async (tc) => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium (.ci/run does)`);
  const t = await makeApp('simulated');
  const shots = tempDir('gmemd-docs-');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    const origin = `http://127.0.0.1:${port}`;
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const ids = Object.values<Record<string, { operationId: string }>>(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));

    const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${origin}/docs/`);
    await page.waitForSelector('.opblock-summary', { timeout: 20_000 });
    const rendered = await page.$$eval('.opblock-summary-operation-id', (els) => els.map((e) => e.textContent?.trim()));
    assert.deepEqual([...rendered].sort(), [...ids].sort());

    // The page itself needs no token; "try it" does: enter the admin token in the Authorize dialog.
    await page.locator('.scheme-container button.authorize').click();
    await page.locator('.auth-container input[type=text], .auth-container input[type=password]').first().fill(t.token);
    await page.locator('.auth-btn-wrapper button.authorize').click();
    await page.locator('.auth-btn-wrapper button.btn-done, button.close-modal').first().click();

    // Try it: create a VM with the documented example body.
    const op = page.locator('#operations-vms-createVm');
    await op.locator('.opblock-summary').click();
    await op.locator('.try-out__btn').click();
    await op.locator('button.execute').click();
    const cell = op.locator('.live-responses-table tbody .response-col_status').first();
    await cell.waitFor({ timeout: 10_000 });
    const status = (await cell.textContent())?.trim();
    assert.equal(status, '201');
    const vms = t.store.vms.list({ limit: 10 }).items;
    assert.deepEqual(vms.map((v) => v.name), ['web-1'], 'the server created the VM the page asked for');
    assert.ok(requested.some((u) => u === `${origin}/v1/vms`), 'the browser sent POST /v1/vms');
    assert.deepEqual(requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:')), [], 'only gmemd was contacted');

    const shot = join(shots.dir, 'docs.png');
    await page.screenshot({ path: shot, fullPage: false });
    assert.ok(existsSync(shot));
    tc.diagnostic(`screenshot: ${shot}`);
  } finally {
    await browser.close();
    await t.close();
    if (!process.env.GMEMD_KEEP_SCREENSHOTS) shots.cleanup();
  }
});
