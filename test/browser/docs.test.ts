import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freshDatabase } from '../helpers.js';
import { killServer, startServer, type ServerProcess } from '../process.js';

/**
 * The API reference in a real browser: Debian's Chromium (never a downloaded one) driven by
 * playwright-core opens /docs, finds the Billing Runs operations and keeps a screenshot in
 * artifacts/ (CI keeps it as an artifact).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('artifacts');

test('/docs shows the Billing Runs operations in Chromium', { timeout: 180_000 }, async () => {
  assert.ok(
    fs.existsSync(CHROMIUM),
    `Chromium is needed at ${CHROMIUM} (npm test installs Debian's chromium when it can: scripts/lib/chromium.mjs)`,
  );
  const db = await freshDatabase();
  let server: ServerProcess | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  try {
    server = await startServer({ databaseUrl: db.url });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.port}/docs`, { waitUntil: 'domcontentloaded' });
    // the document is large: Swagger UI renders the tags once /openapi.json is parsed
    const tag = page.locator('h3.opblock-tag', { hasText: 'Billing Runs' }).first();
    await tag.waitFor({ timeout: 120_000 });
    const section = page.locator('.opblock-tag-section', { has: tag });
    if (
      !(await section
        .locator('.opblock')
        .first()
        .isVisible()
        .catch(() => false))
    )
      await tag.click();
    const refresh = section.locator('.opblock-summary-path', { hasText: '/billingRuns/{tenantId}/refresh/{id}' }).first();
    await refresh.waitFor({ timeout: 30_000 });
    const paths = await section.locator('.opblock-summary-path').allInnerTexts();
    for (const p of ['/billingRuns/{tenantId}', '/billingRuns/{tenantId}/search', '/billingRuns/{tenantId}/execute/{id}']) {
      assert.ok(
        paths.some((x) => x.replace(/\u200b/g, '') === p),
        `${p} in ${paths.join(', ')}`,
      );
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await tag.scrollIntoViewIfNeeded();
    const shot = path.join(ARTIFACTS, 'docs-billing-runs.png');
    await page.screenshot({ path: shot, fullPage: false });
    assert.ok(fs.statSync(shot).size > 10_000, 'a screenshot with content');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await killServer(server);
    await db.drop();
  }
});
