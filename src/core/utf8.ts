import { isUtf8 } from 'node:buffer';

/**
 * Strict UTF-8: input that is not UTF-8 is refused, never decoded with U+FFFD in place of the bytes
 * (which would store a mangled value and lose the original for good). node:buffer's isUtf8 checks
 * as strictly as `new TextDecoder('utf-8', { fatal: true })` without decoding; once it says yes,
 * Buffer#toString('utf8') is exact.
 */

/** Why `buf` is not UTF-8 (the first bad byte and its offset), or null when it is. */
export function utf8Problem(buf: Uint8Array): { offset: number; reason: string } | null {
  if (isUtf8(buf)) return null;
  const offset = firstInvalid(buf);
  const byte = buf[offset]!.toString(16).toUpperCase().padStart(2, '0');
  return { offset, reason: `is not valid UTF-8 (byte 0x${byte} at offset ${offset})` };
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629). */
function firstInvalid(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // beyond U+10FFFF
    } else return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += n + 1;
  }
  return buf.length;
}
