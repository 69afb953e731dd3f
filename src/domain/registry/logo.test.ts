import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import { LOGO_MAX_BYTES, LOGO_MAX_LENGTH, logoProblem, parseLogo } from './logo.js';
import { dataUrl, JPEG, pngBytes } from '../../../test/public/images.js';

/** Rewrites one chunk of a PNG (its CRC kept right, so that only the change is judged). */
function withChunk(png: Buffer, type: string, edit: (data: Buffer) => Buffer): Buffer {
  const out: Buffer[] = [png.subarray(0, 8)];
  for (let pos = 8; pos < png.length; ) {
    const length = png.readUInt32BE(pos);
    const t = png.toString('latin1', pos + 4, pos + 8);
    let data = png.subarray(pos + 8, pos + 8 + length);
    if (t === type) data = edit(Buffer.from(data));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(t, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    out.push(head, data, crc);
    pos += 12 + length;
  }
  return Buffer.concat(out);
}

test('a PNG and a JPEG data URL are read with their size in pixels', () => {
  const png = parseLogo(dataUrl('image/png', pngBytes(40, 20)));
  assert.ok('logo' in png, JSON.stringify(png));
  assert.deepEqual([png.logo.type, png.logo.width, png.logo.height], ['png', 40, 20]);
  const jpeg = parseLogo(dataUrl('image/jpeg', JPEG));
  assert.ok('logo' in jpeg, JSON.stringify(jpeg));
  assert.deepEqual([jpeg.logo.type, jpeg.logo.width, jpeg.logo.height], ['jpeg', 24, 12]);
  assert.equal(logoProblem(dataUrl('image/png', pngBytes(1, 1))), undefined);
});

test('not a data URL of a PNG or JPEG, or not base64: refused with the reason', () => {
  assert.match(logoProblem('https://example.org/logo.png')!, /must be a data: URL of a PNG or JPEG/);
  assert.match(logoProblem(dataUrl('image/gif', Buffer.from('GIF89a')))!, /must be a data: URL of a PNG or JPEG/);
  assert.match(logoProblem('data:image/png,rawbytes')!, /must be a data: URL/);
  assert.match(logoProblem('data:image/png;base64,')!, /not valid base64/);
  assert.match(logoProblem('data:image/png;base64,iVBO Rw0K')!, /not valid base64/);
  assert.match(logoProblem(42)!, /must be a string/);
});

test('the bytes must be the type the URL names (magic bytes)', () => {
  assert.match(logoProblem(dataUrl('image/png', JPEG))!, /says image\/png but its bytes are a JPEG/);
  assert.match(logoProblem(dataUrl('image/jpeg', pngBytes(4, 4)))!, /says image\/jpeg but its bytes are a PNG/);
  assert.match(logoProblem(dataUrl('image/png', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')))!, /not a PNG/);
});

test('larger than the bound: refused, naming the bound', () => {
  const big = Buffer.concat([pngBytes(2, 2), Buffer.alloc(LOGO_MAX_BYTES)]);
  assert.match(logoProblem(dataUrl('image/png', big))!, /at most 262144 bytes \(256 KB\)/);
  // the schema's maxLength lets the largest allowed logo through
  assert.ok(dataUrl('image/jpeg', Buffer.alloc(LOGO_MAX_BYTES)).length <= LOGO_MAX_LENGTH);
});

test('a PNG that pdfkit could not read is refused: cut, bad CRC, bad pixel data, bad filter, huge, interlaced', () => {
  const good = pngBytes(8, 4);
  const cut = good.subarray(0, good.length - 20);
  assert.match(logoProblem(dataUrl('image/png', cut))!, /not a readable PNG/);
  const badCrc = Buffer.from(good);
  badCrc[20] = badCrc[20]! ^ 0xff; // inside IHDR
  assert.match(logoProblem(dataUrl('image/png', badCrc))!, /bad CRC/);
  // a chunk length pdfkit's reader would follow backwards (its loop never ends)
  const negative = Buffer.from(good);
  negative.writeUInt32BE(0xfffffff0, 33);
  assert.match(logoProblem(dataUrl('image/png', negative))!, /runs past the end/);
  const garbage = withChunk(good, 'IDAT', () => Buffer.from('not zlib at all'));
  assert.match(logoProblem(dataUrl('image/png', garbage))!, /does not inflate/);
  const short = withChunk(good, 'IDAT', () => deflateSync(Buffer.alloc(10)));
  assert.match(logoProblem(dataUrl('image/png', short))!, /does not match its size/);
  const rowBytes = 1 + 8 * 4;
  const filter = withChunk(good, 'IDAT', () => deflateSync(Buffer.alloc(rowBytes * 4, 9)));
  assert.match(logoProblem(dataUrl('image/png', filter))!, /row 0 has an unknown filter/);
  const huge = withChunk(good, 'IHDR', (d) => {
    d.writeUInt32BE(20000, 0);
    return d;
  });
  assert.match(logoProblem(dataUrl('image/png', huge))!, /20000 × 4 pixels: at most 2048 pixels a side/);
  const interlaced = withChunk(good, 'IHDR', (d) => {
    d[12] = 1;
    return d;
  });
  assert.match(logoProblem(dataUrl('image/png', interlaced))!, /interlaced/);
});

test('a JPEG without a frame header, or cut, is refused', () => {
  assert.match(logoProblem(dataUrl('image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xd9])))!, /not a readable JPEG/);
  assert.match(logoProblem(dataUrl('image/jpeg', JPEG.subarray(0, 40)))!, /not a readable JPEG image \(a segment runs past the end\)/);
  // 12-bit samples (SOF at the marker FFC0): a PDF cannot embed them
  const sof = JPEG.indexOf(Buffer.from([0xff, 0xc0]));
  const twelve = Buffer.from(JPEG);
  twelve[sof + 4] = 12;
  assert.match(logoProblem(dataUrl('image/jpeg', twelve))!, /12-bit samples/);
});
