import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../core/errors.js';

/**
 * A request body streamed to a file (never held in memory), bounded by its own limit: bulk loads are
 * far larger than the JSON bodies BODY_LIMIT is made for.
 */
export const BULK_LOAD_MAX_BYTES = 1024 ** 3; // 1 GiB

export interface ReceivedFile {
  fileName: string;
  bytes: number;
  sha256: string;
}

const tooLarge = (max: number) =>
  new AppError('payload_too_large', `the file is larger than ${max} bytes, the most a bulk load takes; split it into several loads`);

export async function receiveFile(payload: Readable, dir: string, maxBytes: number, contentLength?: number): Promise<ReceivedFile> {
  if (contentLength !== undefined && contentLength > maxBytes) throw tooLarge(maxBytes);
  fs.mkdirSync(dir, { recursive: true });
  const fileName = `${crypto.randomUUID()}.upload`;
  const file = path.join(dir, fileName);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > maxBytes) return cb(tooLarge(maxBytes));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(payload, meter, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    throw e;
  }
  return { fileName, bytes, sha256: hash.digest('hex') };
}
