import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { injectCall } from '../billing/population.js';
import { settings as settingsDef } from '../../src/resources/settings.js';
import { dataUrl, JPEG, pngBytes } from './images.js';

/**
 * The PDF certificate of a programme with a certificate_design and a board with a logo: the text
 * (pdftotext) says the design's title, statement, filled body and signatory; the page (pdftoppm, kept
 * under artifacts/) is portrait, shows the logo's colours in the box at the top and a QR code that
 * still decodes to the verify page; pdfimages lists the logo and the QR code. Bad designs and logos
 * are refused naming the field (400 for POST / PUT, 422 for PATCH) and change nothing.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const BASE = 'https://registry.example.org';
const ARTIFACTS = path.resolve('artifacts');
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;
// the logo: 300 × 100, red with a white square in the middle (colours no other part of the page has)
const LOGO = pngBytes(300, 100, [220, 20, 60, 255], [255, 255, 255, 255]);
const DESIGN = {
  title: 'Certificate of Registration',
  statement: 'The Board hereby declares that',
  body: '{{holder}} is registered under number {{number}} in {{program}} until {{ expiration_date }}.',
  signatory_name: 'Grace Hopper',
  signatory_title: 'Registrar of Nursing',
  accent_color: '#7a1f5c',
  orientation: 'portrait',
};
let t: TestApp;
const call = injectCall(() => t);
let program: any;
let plain: any;
let cert: any;
let plainCert: any;

const send = (method: 'POST' | 'PUT' | 'PATCH', url: string, payload: unknown) =>
  t.call({ method, url, payload: payload as any, auth: t.admin });
const fieldOf = (res: { json: () => any }) => res.json().errors?.[0]?.field;

before(async () => {
  t = await startApp({ clock, env: { PUBLIC_BASE_URL: BASE } });
  await call(
    'POST',
    '/settings/acme',
    {
      business_unit_id: 'bu',
      merchant_account_id: 'm',
      bank_account_id: 'b',
      board_name: 'State Board of Nursing',
      board_logo: dataUrl('image/png', LOGO),
    },
    201,
  );
  program = await call('POST', '/programs/acme', { name: 'Registered Nurse', certificate_design: DESIGN }, 201);
  plain = await call('POST', '/programs/acme', { name: 'Licensed Practical Nurse' }, 201);
  const certification = (programId: string, number: number) => ({
    number,
    contact_id: `contact-${number}`,
    program_id: programId,
    status: 'active',
    name: 'Ada Lovelace',
    certification_date: '2024-01-10',
    expiration_date: '2026-09-23',
    grace_period_end_date: '2026-10-23',
  });
  cert = await call('POST', '/certifications/acme', certification(program.id, 2001), 201);
  plainCert = await call('POST', '/certifications/acme', certification(plain.id, 3001), 201);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

after(() => t?.close());

async function pdfOf(id: string, name: string): Promise<string> {
  const res = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${id}` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/pdf');
  const file = path.join(ARTIFACTS, `${name}.pdf`);
  fs.writeFileSync(file, res.rawPayload);
  return file;
}

/** pdfimages -list: one row per image (width, height, encoding). */
const imagesOf = (pdf: string) =>
  execFileSync('pdfimages', ['-list', pdf], { encoding: 'utf8' })
    .split('\n')
    .slice(2)
    .filter((l) => l.trim())
    .map((l) => {
      const c = l.trim().split(/\s+/);
      return { type: c[2], width: Number(c[3]), height: Number(c[4]), enc: c[8] };
    });

test('a templated certificate: the design’s title, statement, filled body and signatory; the logo and the QR code', async () => {
  const pdf = await pdfOf(cert.id, 'certificate-template');
  const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  for (const s of [
    'State Board of Nursing',
    'Certificate of Registration',
    'The Board hereby declares that',
    'Ada Lovelace',
    'holds certificate number 2001',
    'Ada Lovelace is registered under number 2001 in Registered Nurse until 23 September 2026.',
    'Grace Hopper',
    'Registrar of Nursing',
  ])
    assert.ok(text.includes(s), `${s} in ${text}`);
  assert.ok(!text.includes('This certifies that'), 'the statement replaces the default');
  assert.match(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }), /^Title:\s+Certificate of Registration: Ada Lovelace$/m);
  assert.ok(!text.includes('{{'), 'no placeholder left');
  // the written verify address, in full (wrapped on the narrow page)
  assert.ok(text.replace(/ /g, '').includes(`${BASE}/registry/acme/verify/${program.id}/2001`), text);

  const images = imagesOf(pdf).filter((i) => i.type === 'image');
  assert.equal(images.length, 2, JSON.stringify(images));
  assert.ok(
    images.some((i) => i.width === 300 && i.height === 100),
    `the logo at its own size: ${JSON.stringify(images)}`,
  );

  execFileSync('pdftoppm', ['-png', '-r', '110', '-singlefile', pdf, path.join(ARTIFACTS, 'certificate-template')]);
  const png = PNG.sync.read(fs.readFileSync(path.join(ARTIFACTS, 'certificate-template.png')));
  assert.ok(png.height > png.width, 'portrait');
  const qr = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(qr, 'a QR code on the page');
  assert.equal(qr.data, `${BASE}/registry/acme/verify/${program.id}/2001`);
  // the logo: the page's only red, in the top half, centred, 3 : 1 as drawn, its white square in the middle
  const at = (x: number, y: number) => [...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3)];
  const box = { x0: png.width, y0: png.height, x1: -1, y1: -1 };
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const [r, g, b] = at(x, y);
      if (r! > 180 && g! < 80 && b! < 100) {
        box.x0 = Math.min(box.x0, x);
        box.y0 = Math.min(box.y0, y);
        box.x1 = Math.max(box.x1, x);
        box.y1 = Math.max(box.y1, y);
      }
    }
  assert.ok(box.x1 > 0, 'the logo is drawn');
  const [w, h] = [box.x1 - box.x0 + 1, box.y1 - box.y0 + 1];
  assert.ok(Math.abs(w / h - 3) < 0.1, `aspect kept: ${w} × ${h}`);
  assert.ok(Math.abs((box.x0 + box.x1) / 2 - png.width / 2) < 3, 'centred');
  assert.ok(box.y1 < png.height / 2, 'in the top half');
  assert.deepEqual(at(Math.round((box.x0 + box.x1) / 2), Math.round((box.y0 + box.y1) / 2)), [255, 255, 255], 'its white square');
  const scale = 110 / 72;
  // the accent colour draws the frame
  const [r, g, b] = at(Math.round(28 * scale), Math.round(300 * scale));
  assert.ok(Math.abs(r! - 0x7a) < 40 && Math.abs(g! - 0x1f) < 40 && Math.abs(b! - 0x5c) < 40, `frame in the accent colour: ${[r, g, b]}`);
});

test('a programme without a design: the defaults, and the board’s logo still; a JPEG logo too', async () => {
  const pdf = await pdfOf(plainCert.id, 'certificate-default-with-logo');
  const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  for (const s of [
    'Licensed Practical Nurse',
    'This certifies that',
    'Ada Lovelace',
    'holds certificate number 3001',
    'Expires on 23 September 2026',
  ])
    assert.ok(text.includes(s), `${s} in ${text}`);
  assert.equal(imagesOf(pdf).filter((i) => i.type === 'image').length, 2);

  await call('PATCH', '/settings/acme', [{ op: 'replace', path: '/board_logo', value: dataUrl('image/jpeg', JPEG) }]);
  const jpeg = imagesOf(await pdfOf(plainCert.id, 'certificate-jpeg-logo')).filter((i) => i.type === 'image');
  assert.ok(
    jpeg.some((i) => i.enc === 'jpeg' && i.width === 24 && i.height === 12),
    `the JPEG embedded as it is: ${JSON.stringify(jpeg)}`,
  );
  // without a logo: the QR code is the one image
  await call('PATCH', '/settings/acme', [{ op: 'remove', path: '/board_logo' }]);
  assert.equal(imagesOf(await pdfOf(plainCert.id, 'certificate-no-logo')).filter((i) => i.type === 'image').length, 1);
  // the schema's example (for the OpenAPI document) is a logo the check accepts
  const example = (settingsDef.inputSchema.properties as any).board_logo.examples[0];
  await call('PATCH', '/settings/acme', [{ op: 'add', path: '/board_logo', value: example }]);
});

test('a bad certificate_design is refused naming the member, on create, update and patch, and nothing changes', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ body: 'Dear {{name}}' }, 'certificate_design.body', /\{\{name\}\}, which is not a placeholder/],
    [{ body: '{{#if holder}}x{{/if}}' }, 'certificate_design.body', /outside a placeholder/],
    [{ accent_color: 'red' }, 'certificate_design.accent_color', /pattern/],
    [{ orientation: 'sideways' }, 'certificate_design.orientation', /landscape/],
    [{ title: 'x'.repeat(121) }, 'certificate_design.title', /at most 120 characters/],
    [{ title: '' }, 'certificate_design.title', /must not be empty/],
    [{ font: 'Comic Sans' }, 'certificate_design.font', /not a known field/],
  ];
  for (const [design, field, reason] of cases) {
    const created = await send('POST', '/programs/acme', { name: 'Bad', certificate_design: design });
    assert.equal(created.statusCode, 400, created.body);
    assert.equal(fieldOf(created), field, created.body);
    assert.match(created.json().errors[0].reason, reason);
    const put = await send('PUT', `/programs/acme/${plain.id}`, { name: 'Licensed Practical Nurse', certificate_design: design });
    assert.equal(put.statusCode, 400, put.body);
    assert.equal(fieldOf(put), field);
  }
  const patched = await send('PATCH', `/programs/acme/${program.id}`, [
    { op: 'replace', path: '/certificate_design/body', value: 'To {{nme}}' },
  ]);
  assert.equal(patched.statusCode, 422, patched.body);
  assert.equal(fieldOf(patched), 'certificate_design.body');
  assert.deepEqual((await call('GET', `/programs/acme/${program.id}`)).certificate_design, DESIGN, 'unchanged');
  // a good patch of one member works
  await call('PATCH', `/programs/acme/${program.id}`, [
    { op: 'replace', path: '/certificate_design/statement', value: 'This is to certify that' },
  ]);
  const text = execFileSync('pdftotext', [await pdfOf(cert.id, 'certificate-template-patched'), '-'], { encoding: 'utf8' });
  assert.match(text, /This is to certify that/);
});

test('a bad logo is refused naming board_logo (not a PNG/JPEG data URL, wrong magic bytes, corrupt, too large), and nothing changes', async () => {
  const before = await call('GET', '/settings/acme');
  const corrupt = Buffer.from(LOGO);
  corrupt.fill(0, 60, 120); // inside the pixel data: its CRC no longer matches
  const bad: [string, RegExp][] = [
    ['https://example.org/logo.png', /pattern/],
    [dataUrl('image/svg+xml', Buffer.from('<svg/>')), /pattern/],
    [dataUrl('image/png', JPEG), /says image\/png but its bytes are a JPEG/],
    [dataUrl('image/jpeg', Buffer.from('GIF89a')), /says image\/jpeg but its bytes are not a JPEG/],
    [dataUrl('image/png', corrupt), /not a readable PNG image/],
    ['data:image/png;base64,not*base64', /not valid base64/],
    // one byte over the bound: the check says so in bytes; far over it, the schema's length refuses it first
    [dataUrl('image/png', Buffer.concat([LOGO, Buffer.alloc(256 * 1024 + 1 - LOGO.length)])), /at most 262144 bytes \(256 KB\)/],
    [dataUrl('image/png', Buffer.concat([LOGO, Buffer.alloc(1024 * 1024)])), /must be at most \d+ characters/],
  ];
  const full = { business_unit_id: 'bu', merchant_account_id: 'm', bank_account_id: 'b', board_name: 'State Board of Nursing' };
  for (const [value, reason] of bad) {
    const put = await send('PUT', '/settings/acme', { ...full, board_logo: value });
    assert.equal(put.statusCode, 400, put.body);
    assert.equal(fieldOf(put), 'board_logo');
    assert.match(put.json().errors[0].reason, reason);
    const patch = await send('PATCH', '/settings/acme', [{ op: 'add', path: '/board_logo', value }]);
    assert.equal(patch.statusCode, 422, patch.body);
    assert.equal(fieldOf(patch), 'board_logo');
  }
  assert.deepEqual(await call('GET', '/settings/acme'), before, 'unchanged');
  // the certificate still renders
  assert.equal((await t.call({ method: 'GET', url: `/certifications/acme/certificate/${cert.id}` })).statusCode, 200);
});

test('the wallet card: one bank-card-sized page with the holder, number, expiry and a QR code that decodes', async () => {
  const res = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${cert.id}?format=card` });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['content-type'], 'application/pdf');
  assert.match(String(res.headers['content-disposition']), /filename="wallet-card-2001\.pdf"/);
  const pdf = path.join(ARTIFACTS, 'wallet-card.pdf');
  fs.writeFileSync(pdf, res.rawPayload);
  const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
  assert.match(info, /^Pages:\s+1$/m);
  assert.match(info, /^Page size:\s+242\.65 x 153\.01 pts$/m, info);
  const text = execFileSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  for (const s of ['State Board of Nursing', 'Ada Lovelace', 'No. 2001', 'Expires 23 September 2026'])
    assert.ok(text.includes(s), `${s} in ${text}`);
  // rendered large enough for the small QR code to decode
  execFileSync('pdftoppm', ['-png', '-r', '300', '-singlefile', pdf, path.join(ARTIFACTS, 'wallet-card')]);
  const png = PNG.sync.read(fs.readFileSync(path.join(ARTIFACTS, 'wallet-card.png')));
  assert.ok(png.width > png.height, 'landscape, like a bank card');
  const qr = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.equal(qr?.data, `${BASE}/registry/acme/verify/${program.id}/2001`);
  const bad = await t.call({ method: 'GET', url: `/certifications/acme/certificate/${cert.id}?format=poster` });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().errors?.[0]?.field, 'format');
});
