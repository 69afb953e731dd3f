import { crc32, inflateSync } from 'node:zlib';

/**
 * The board's logo (settings.board_logo): a `data:` URL of a PNG or JPEG, checked on write so that the
 * certificate renderer (pdfkit) never meets a file it cannot read. pdfkit's PNG reader loops on a
 * chunk length it cannot follow and decodes pixels in an asynchronous callback that throws on bad
 * data (an uncaught exception), so "decodes as that image" here means: a PNG's chunks are whole with
 * good CRCs and its pixel data inflates to exactly the size its header says, with a valid filter byte
 * on every row; a JPEG's segments lead to a frame header pdfkit can embed. Nothing is fetched.
 */
export const LOGO_MAX_BYTES = 256 * 1024;
/**
 * Largest side in pixels: bounds what the pixel data inflates to, here and in pdfkit on every render (a
 * small file can claim a huge image). A logo's box is 220 × 64 points: 2048 pixels is more than print needs.
 */
export const LOGO_MAX_SIDE = 2048;
const PREFIX = /^data:(image\/png|image\/jpeg);base64,/;
/** The field's maxLength: the base64 of LOGO_MAX_BYTES plus the longest prefix. */
export const LOGO_MAX_LENGTH = 'data:image/jpeg;base64,'.length + 4 * Math.ceil(LOGO_MAX_BYTES / 3);
/** The schema pattern of the field (the rest is checked by logoProblem). */
export const LOGO_PATTERN = '^data:image/(png|jpeg);base64,';

export interface Logo {
  type: 'png' | 'jpeg';
  bytes: Buffer;
  width: number;
  height: number;
}

export type LogoResult = { logo: Logo } | { problem: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// bit depths allowed per PNG colour type, and the samples per pixel
const PNG_DEPTHS: Record<number, { depths: number[]; samples: number }> = {
  0: { depths: [1, 2, 4, 8, 16], samples: 1 },
  2: { depths: [8, 16], samples: 3 },
  3: { depths: [1, 2, 4, 8], samples: 1 },
  4: { depths: [8, 16], samples: 2 },
  6: { depths: [8, 16], samples: 4 },
};

const sideProblem = (width: number, height: number) =>
  width < 1 || height < 1
    ? 'is an image without pixels'
    : width > LOGO_MAX_SIDE || height > LOGO_MAX_SIDE
      ? `is ${width} × ${height} pixels: at most ${LOGO_MAX_SIDE} pixels a side`
      : undefined;

function pngProblem(b: Buffer): { problem: string } | { width: number; height: number } {
  const bad = (why: string) => ({ problem: `is not a readable PNG image (${why})` });
  if (b.length < 8 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) return bad('no PNG signature');
  let pos = 8;
  let header: { width: number; height: number; depth: number; colorType: number; interlace: number } | undefined;
  let palette = false;
  let ended = false;
  const idat: Buffer[] = [];
  while (pos < b.length) {
    if (ended) return bad('data after IEND');
    if (pos + 12 > b.length) return bad('a cut chunk');
    const length = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    if (length > b.length - pos - 12) return bad(`chunk ${JSON.stringify(type)} runs past the end`);
    const data = b.subarray(pos + 8, pos + 8 + length);
    if (crc32(b.subarray(pos + 4, pos + 8 + length)) !== b.readUInt32BE(pos + 8 + length)) return bad(`chunk ${type} has a bad CRC`);
    if (!header && type !== 'IHDR') return bad('IHDR is not the first chunk');
    if (type === 'IHDR') {
      if (header || length !== 13) return bad('a bad IHDR');
      header = {
        width: data.readUInt32BE(0),
        height: data.readUInt32BE(4),
        depth: data[8]!,
        colorType: data[9]!,
        interlace: data[12]!,
      };
      if (!PNG_DEPTHS[header.colorType]?.depths.includes(header.depth) || data[10] !== 0 || data[11] !== 0 || header.interlace > 1)
        return bad('an unknown colour type, bit depth or method');
    } else if (type === 'PLTE') palette = true;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') ended = true;
    pos += 12 + length;
  }
  if (!header || !ended) return bad('no IEND chunk');
  const { width, height, depth, colorType, interlace } = header;
  const side = sideProblem(width, height);
  if (side) return { problem: side };
  if (interlace === 1) return { problem: 'is an interlaced PNG: save it without interlacing' };
  if (colorType === 3 && !palette) return bad('an indexed image without a palette');
  if (!idat.length) return bad('no image data');
  const rowBytes = 1 + Math.ceil((width * depth * PNG_DEPTHS[colorType]!.samples) / 8);
  let pixels: Buffer;
  try {
    // one byte more than expected is enough to tell "too long"
    pixels = inflateSync(Buffer.concat(idat), { maxOutputLength: rowBytes * height + 1 });
  } catch {
    return bad('its pixel data does not inflate');
  }
  if (pixels.length !== rowBytes * height) return bad('its pixel data does not match its size');
  for (let row = 0; row < height; row++) if (pixels[row * rowBytes]! > 4) return bad(`row ${row} has an unknown filter`);
  return { width, height };
}

// the frame headers pdfkit embeds (its MARKERS): SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC)
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegProblem(b: Buffer): { problem: string } | { width: number; height: number } {
  const bad = (why: string) => ({ problem: `is not a readable JPEG image (${why})` });
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return bad('no JPEG start marker');
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) return bad(`no marker at byte ${pos}`);
    const marker = b[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return bad('no frame header before the image data');
    const length = b.readUInt16BE(pos + 2);
    if (length < 2 || pos + 2 + length > b.length) return bad('a segment runs past the end');
    if (SOF.has(marker)) {
      if (length < 8) return bad('a cut frame header');
      const precision = b[pos + 4]!;
      const height = b.readUInt16BE(pos + 5);
      const width = b.readUInt16BE(pos + 7);
      const channels = b[pos + 9]!;
      if (precision !== 8) return bad(`${precision}-bit samples; a PDF takes 8`);
      if (![1, 3, 4].includes(channels)) return bad(`${channels} colour channels`);
      const side = sideProblem(width, height);
      return side ? { problem: side } : { width, height };
    }
    pos += 2 + length;
  }
  return bad('no frame header');
}

/**
 * The logo in a `data:` URL, or why it cannot be one: not a data URL of image/png or image/jpeg in
 * base64, larger than LOGO_MAX_BYTES, bytes that are not that image type (magic bytes), or an image
 * the renderer could not read.
 */
export function parseLogo(value: unknown): LogoResult {
  if (typeof value !== 'string') return { problem: 'must be a string' };
  const m = PREFIX.exec(value);
  if (!m) return { problem: 'must be a data: URL of a PNG or JPEG image in base64 (data:image/png;base64,… or data:image/jpeg;base64,…)' };
  const b64 = value.slice(m[0].length);
  // Buffer.from skips characters outside the alphabet: refuse them rather than decode something else
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0)
    return { problem: 'is not valid base64 after "base64,"' };
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > LOGO_MAX_BYTES)
    return { problem: `is ${bytes.length} bytes: at most ${LOGO_MAX_BYTES} bytes (${LOGO_MAX_BYTES / 1024} KB)` };
  const type = m[1] === 'image/png' ? 'png' : 'jpeg';
  const isPng = bytes.subarray(0, 8).equals(PNG_SIGNATURE);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (type === 'png' && !isPng) return { problem: `says image/png but its bytes are ${isJpeg ? 'a JPEG' : 'not a PNG'}` };
  if (type === 'jpeg' && !isJpeg) return { problem: `says image/jpeg but its bytes are ${isPng ? 'a PNG' : 'not a JPEG'}` };
  const r = type === 'png' ? pngProblem(bytes) : jpegProblem(bytes);
  return 'problem' in r ? r : { logo: { type, bytes, width: r.width, height: r.height } };
}

/** The reason a logo value is refused, or undefined (the field check of settings.board_logo). */
export const logoProblem = (value: unknown): string | undefined => {
  const r = parseLogo(value);
  return 'problem' in r ? r.problem : undefined;
};
