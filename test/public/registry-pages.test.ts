import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { awayFromMinuteEnd, startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { addDays, injectCall } from '../billing/population.js';

/**
 * The registry's HTML pages (no token) and the PDF certificate (read scope). Pages: the public
 * directories and the search form, search results with published fields only and every value
 * HTML-escaped (a holder named with a <script> tag), the verify page's standing in words, the 404 and
 * 400 pages, the rate limit's 429 page. The PDF: its text (pdftotext) holds the holder and number, its
 * first page rendered to PNG (pdftoppm, kept under artifacts/) carries a QR code that decodes (jsQR)
 * to the verify page, which answers; retired → 409, suspended → the PDF says so.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const LIMIT = 40;
const BASE = 'https://registry.example.org';
const ARTIFACTS = path.resolve('artifacts');
// jsqr is CommonJS with a typed default export: the function is module.exports itself at run time
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;
const EVIL = `Eve <script>alert("x")</script> O'Hara & Co`;
let t: TestApp;
const call = injectCall(() => t);
let address = 0;
/** A token-less GET from its own client address (each has its own rate-limit budget). */
const page = (url: string, remoteAddress = `10.9.${Math.floor(++address / 250)}.${(address % 250) + 1}`) =>
  t.call({ method: 'GET', url, auth: false, remoteAddress });

let program: any;
let publicDir: any;
let privateDir: any;
const certs: Record<string, any> = {};

before(async () => {
  t = await startApp({ clock, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: String(LIMIT), PUBLIC_BASE_URL: BASE } });
  program = await call('POST', '/programs/acme', { name: 'Registered Nurse' }, 201);
  const people = [
    // key, number, first, last, status, expiration offset, grace offset
    ['ada', 1001, 'Ada', 'Lovelace', 'active', 100, 130],
    ['ben', 1002, 'Ben', 'Lovelock', 'active', -10, 20],
    ['cy', 1003, 'Cy', 'Lovett', 'active', -60, -30],
    ['sue', 1004, 'Sue', 'Lovegood', 'suspended', 300, 330],
    ['rex', 1005, 'Rex', 'Loveday', 'retired', 300, 330],
    ['eve', 1006, 'Eve', EVIL, 'active', 200, 230],
  ] as const;
  for (const [k, number, first, last, status, exp, grace] of people) {
    certs[k] = await call(
      'POST',
      '/certifications/acme',
      {
        number,
        contact_id: `contact-${k}`,
        program_id: program.id,
        status,
        name: `${first} ${last}`,
        first_name: first,
        last_name: last,
        email_address: `${k}-private@example.org`,
        city: 'Boston',
        // the name printed on the certificate, in letters the standard PDF fonts do not have
        ...(k === 'ada' ? { certificate_name: 'Ada Łucja Lovelace-Żółć' } : {}),
        certification_date: '2024-01-10',
        expiration_date: addDays(TODAY, exp),
        grace_period_end_date: addDays(TODAY, grace),
      },
      201,
    );
  }
  publicDir = await call(
    'POST',
    '/directories/acme',
    {
      name: 'Find a nurse',
      is_public: true,
      display_mode: 'search',
      searchable_fields: [{ name: 'last_name', label: 'Family name' }, { name: 'number' }],
      additional_fields: ['first_name', 'city', 'expiration_date'],
      certification_statuses: ['active', 'inactive', 'suspended'],
    },
    201,
  );
  privateDir = await call(
    'POST',
    '/directories/acme',
    { name: 'Staff only', is_public: false, searchable_fields: [{ name: 'email_address' }], additional_fields: ['email_address'] },
    201,
  );
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

after(() => t?.close());

const isHtml = (res: { headers: Record<string, unknown> }) =>
  assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);

test('the find page lists the public directories only, with a labelled search form', async () => {
  const res = await page('/registry/acme');
  assert.equal(res.statusCode, 200, res.body);
  isHtml(res);
  assert.match(res.body, /<html lang="en">/);
  assert.match(res.body, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(res.body, /<h1>Find a licensee<\/h1>/);
  assert.match(res.body, /<h2>Find a nurse<\/h2>/);
  assert.ok(!res.body.includes('Staff only'), 'a private directory is not listed');
  assert.match(res.body, /<label for="f-last_name">Family name<\/label>\s*<input id="f-last_name" name="last_name"/);
  assert.match(res.body, /<label for="f-number">Licence number<\/label>\s*<input id="f-number" name="number" value="" inputmode="numeric"/);
  assert.ok(!res.body.includes('<table'), 'a search directory shows nothing before a search');
  const priv = await page(`/registry/acme?directory=${privateDir.id}`);
  assert.equal(priv.statusCode, 404);
  isHtml(priv);
});

test('search results: published fields only, every value escaped, a verify link each', async () => {
  const res = await page(`/registry/acme?directory=${publicDir.id}&last_name=${encodeURIComponent('<script>')}`);
  assert.equal(res.statusCode, 200, res.body);
  isHtml(res);
  assert.ok(!res.body.includes('<script>'), 'no tag from the data');
  assert.ok(res.body.includes('Eve Eve &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#x27;Hara &amp; Co'), res.body);
  // the value typed in the form comes back escaped too
  assert.match(res.body, /name="last_name" value="&lt;script&gt;"/);
  assert.ok(res.body.includes(`/registry/acme/verify/${program.id}/1006`));

  const all = await page(`/registry/acme?directory=${publicDir.id}&last_name=Lov`);
  assert.equal(all.statusCode, 200);
  for (const n of ['Ada Lovelace', 'Ben Lovelock', 'Sue Lovegood']) assert.ok(all.body.includes(n), n);
  assert.ok(!all.body.includes('Rex Loveday'), 'retired is not in this directory');
  assert.ok(!all.body.includes('private@example.org'), 'no e-mail address: the directory does not publish it');
  assert.ok(!all.body.includes('contact-'), 'no internal id');
  assert.ok(all.body.includes('<th scope="col">City</th>') && all.body.includes('Boston'));
  assert.ok(all.body.includes(`>${'23 September 2026'}<`), 'dates in words');

  const bad = await page(`/registry/acme?directory=${publicDir.id}&number=abc`);
  assert.equal(bad.statusCode, 400);
  isHtml(bad);
  assert.match(bad.body, /role="alert"[\s\S]*number: must be a whole number/);
  const unknownCriterion = await page(`/registry/acme?directory=${publicDir.id}&email_address=ada`);
  assert.equal(unknownCriterion.statusCode, 400);
  assert.match(unknownCriterion.body, /email_address: is not a search criterion/);
});

test('the verify page words the standing: current, in grace, lapsed, suspended, retired', async () => {
  const expect = {
    1001: [/class="standing current"[^>]*>Current</, /valid until 23 September 2026/],
    1002: [/>In grace period</, /expired on 5 June 2026 and is in its grace period: it is valid until 5 July 2026/],
    1003: [/>Lapsed</, /not valid/],
    1004: [/>Suspended</, /suspended: it is not valid/],
    1005: [/>Retired</, /no longer valid/],
  } as const;
  for (const [n, patterns] of Object.entries(expect)) {
    const res = await page(`/registry/acme/verify/${program.id}/${n}`);
    assert.equal(res.statusCode, 200, res.body);
    isHtml(res);
    for (const p of patterns) assert.match(res.body, p, `${n}`);
    assert.ok(!res.body.includes('private@example.org'));
  }
  const eve = await page(`/registry/acme/verify/${program.id}/1006`);
  assert.ok(!eve.body.includes('<script>'));
  assert.match(eve.body, /<dd id="holder">Eve Eve &lt;script&gt;/);
});

test('unknown licence: a 404 page; a malformed number: a 400 page; another tenant: nothing', async () => {
  const res = await page(`/registry/acme/verify/${program.id}/9999`);
  assert.equal(res.statusCode, 404);
  isHtml(res);
  assert.match(res.body, /<h1>Not found<\/h1>[\s\S]*no certificate 9999/);
  const bad = await page(`/registry/acme/verify/${program.id}/12ab`);
  assert.equal(bad.statusCode, 400);
  isHtml(bad);
  const other = await page(`/registry/other/verify/${program.id}/1001`);
  assert.equal(other.statusCode, 404);
  const otherFind = await page('/registry/other');
  assert.equal(otherFind.statusCode, 200);
  assert.match(otherFind.body, /no public directory/);
  assert.ok(!otherFind.body.includes('Find a nurse'));
});

test('the pages share the public rate limit: a 429 page with Retry-After', async () => {
  await awayFromMinuteEnd();
  const ip = '10.250.0.1';
  for (let i = 0; i < LIMIT; i++) assert.equal((await page(`/registry/acme/verify/${program.id}/1001`, ip)).statusCode, 200);
  const res = await page(`/registry/acme/verify/${program.id}/1001`, ip);
  assert.equal(res.statusCode, 429);
  isHtml(res);
  assert.ok(Number(res.headers['retry-after']) >= 1);
  assert.match(res.body, /<h1>Too many requests<\/h1>/);
  // the JSON public routes count in the same budget
  assert.equal(
    (await t.call({ method: 'GET', url: `/public/verify/acme/${program.id}/1001`, auth: false, remoteAddress: ip })).statusCode,
    429,
  );
});

test('the PDF certificate: text with holder and number, a QR code of the verify page', async () => {
  await call('PATCH', '/settings/acme', [{ op: 'add', path: '/board_name', value: 'State Board of Nursing' }]).catch(async () => {
    await call(
      'POST',
      '/settings/acme',
      { business_unit_id: 'bu', merchant_account_id: 'm', bank_account_id: 'b', board_name: 'State Board of Nursing' },
      201,
    );
  });
  const res = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${certs.ada.id}` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/pdf');
  assert.equal(res.rawPayload.subarray(0, 5).toString(), '%PDF-');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accredit-pdf-'));
  const pdf = path.join(ARTIFACTS, 'certificate.pdf');
  fs.writeFileSync(pdf, res.rawPayload);
  const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  for (const s of [
    'Registered Nurse',
    'Ada Łucja Lovelace-Żółć',
    '1001',
    'State Board of Nursing',
    'Certified on 10 January 2024',
    'Expires on 23 September 2026',
  ])
    assert.ok(text.includes(s), `${s} in ${text}`);
  execFileSync('pdftoppm', ['-png', '-r', '110', '-singlefile', pdf, path.join(ARTIFACTS, 'certificate')]);
  const png = PNG.sync.read(fs.readFileSync(path.join(ARTIFACTS, 'certificate.png')));
  const qr = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(qr, 'a QR code on the page');
  assert.equal(qr.data, `${BASE}/registry/acme/verify/${program.id}/1001`);
  const landing = await page(new URL(qr.data).pathname);
  assert.equal(landing.statusCode, 200);
  assert.match(landing.body, /Ada Lovelace[\s\S]*1001/);
  assert.match(landing.body, /<p class="board">State Board of Nursing<\/p>/, 'the pages name the board from the settings');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a suspended certification’s PDF states it; retired is a 409; other tenants and no token are refused', async () => {
  const sus = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${certs.sue.id}` });
  assert.equal(sus.statusCode, 200);
  const file = path.join(ARTIFACTS, 'certificate-suspended.pdf');
  fs.writeFileSync(file, sus.rawPayload);
  assert.match(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }), /Suspended on 15 June 2026/);
  const ret = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${certs.rex.id}` });
  assert.equal(ret.statusCode, 409);
  assert.match(ret.json().message, /retired/);
  assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/certificate/${certs.ada.id}`, auth: false })).statusCode, 401);
  const other = await t.token({ tenants: ['other'], scope: 'certifications:read' });
  assert.equal((await t.call({ method: 'GET', url: `/certifications/other/certificate/${certs.ada.id}`, auth: other })).statusCode, 404);
  assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/certificate/${certs.ada.id}`, auth: other })).statusCode, 403);
  assert.equal((await t.call({ method: 'GET', url: '/certifications/acme/certificate/no-such-id' })).statusCode, 404);
});
