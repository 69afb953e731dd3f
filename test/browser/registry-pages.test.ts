import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freshDatabase } from '../helpers.js';
import { call, killServer, startServer, tokenFor, type ServerProcess } from '../process.js';

/**
 * The public registry pages as a person uses them, in Debian's Chromium driven by playwright-core: on
 * a phone-sized window, open "Find a licensee", type a family name in the labelled field, submit with
 * the keyboard, follow the result's verify link and read the standing. Screenshots of the results and
 * of the verify page are kept in artifacts/ (CI keeps them).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('artifacts');
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const long = (d: string) =>
  new Date(`${d}T00:00:00Z`).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

test('a person finds a licensee and reads the standing on the verify page', { timeout: 180_000 }, async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install -y chromium)`);
  const db = await freshDatabase();
  let server: ServerProcess | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  try {
    server = await startServer({ databaseUrl: db.url });
    const port = server.port;
    const auth = { authorization: `Bearer ${await tokenFor('acme', 'browser', 'certifications:admin')}` };
    const created = async (url: string, body: unknown) => {
      const r = await call(port, 'POST', url, body, auth);
      assert.equal(r.status, 201, `${url}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const program = await created('/programs/acme', { name: 'Registered Nurse' });
    const expires = day(120);
    for (const [number, first, last] of [
      [2001, 'Grace', 'Hopper'],
      [2002, 'Grace', 'Hoppe'],
      [2003, 'Alan', 'Turing'],
    ] as const) {
      await created('/certifications/acme', {
        number,
        contact_id: `c-${number}`,
        program_id: program.id,
        status: 'active',
        name: `${first} ${last}`,
        first_name: first,
        last_name: last,
        city: 'Arlington',
        certification_date: day(-300),
        expiration_date: expires,
        grace_period_end_date: day(150),
      });
    }
    await created('/directories/acme', {
      name: 'Find a nurse',
      is_public: true,
      searchable_fields: [{ name: 'last_name', label: 'Family name' }],
      additional_fields: ['first_name', 'city'],
    });

    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/registry/acme`, { waitUntil: 'domcontentloaded' });
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Find a licensee');
    await page.getByLabel('Family name').fill('hopper');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Results' }).waitFor();
    const rows = page.getByRole('row');
    assert.equal(await rows.count(), 2, 'a header row and Grace Hopper');
    assert.match(String(await rows.nth(1).textContent()), /Grace Hopper[\s\S]*Registered Nurse[\s\S]*2001/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'registry-find.png'), fullPage: true });

    await page.getByRole('link', { name: 'Verify licence 2001' }).click();
    await page.getByRole('heading', { name: 'Verify a licence' }).waitFor();
    assert.equal(await page.locator('#standing').textContent(), 'Current');
    assert.equal(await page.locator('#standing-sentence').textContent(), `This licence is current: valid until ${long(expires)}.`);
    assert.equal(await page.locator('#holder').textContent(), 'Grace Hopper');
    const shot = path.join(ARTIFACTS, 'registry-verify.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(fs.statSync(shot).size > 5_000, 'a screenshot with content');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await killServer(server);
    await db.drop();
  }
});
