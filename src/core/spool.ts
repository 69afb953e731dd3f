import { randomUUID } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * Decouples reading a query's rows from the client downloading them. The rendered output is written
 * to a temporary file as fast as the database produces it, while the HTTP response reads that file
 * from the start, following it as it grows (the first bytes leave at once; memory stays flat: one
 * write buffer and one read buffer).
 *
 * Why not pipe the row iterator straight into the response, pulled by the client's back-pressure?
 * Because then the client's speed sets how long the database is held: on SQLite a `.stream()` holds
 * the one connection of the server (every other request waits), on PostgreSQL it holds a pooled
 * connection and its snapshot. A slow or stalled download could starve the whole server. With the
 * spool a download holds the database only as long as the database needs; the client's pace costs a
 * file of the output's size (≤ the query's limit of rows), removed as soon as the response ends.
 *
 * The file is unlinked right after it is opened (POSIX keeps an open file alive), so nothing is left
 * behind, even by a crash; on Windows it is removed when the spool closes.
 */
const WRITE_CHUNK = 256 * 1024;
const READ_CHUNK = 64 * 1024;

export class Spool {
  private written = 0;
  private done = false;
  private failed: unknown;
  private aborted = false;
  private filling: Promise<void> = Promise.resolve();
  private closing?: Promise<void>;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly fh: FileHandle,
    private readonly file: string | undefined,
  ) {}

  static async open(dir = os.tmpdir()): Promise<Spool> {
    const file = path.join(dir, `accredit-query-${randomUUID()}.spool`);
    const fh = await fs.open(file, 'wx+', 0o600);
    if (process.platform === 'win32') return new Spool(fh, file);
    await fs.unlink(file).catch(() => {});
    return new Spool(fh, undefined);
  }

  /** Bytes written so far. */
  get size() {
    return this.written;
  }

  /** Why the fill failed (after it ended), if it did. */
  get error(): unknown {
    return this.failed;
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
  private changed() {
    return new Promise<void>((r) => this.waiters.push(r));
  }

  /** Writes the chunks to the file as they come (not awaited by the reader). Stops early on abort. */
  fill(chunks: AsyncIterable<string>): Promise<void> {
    this.filling = (async () => {
      let parts: string[] = [];
      let pending = 0;
      const flush = async () => {
        if (!parts.length) return;
        const buf = Buffer.from(parts.join(''), 'utf8');
        parts = [];
        pending = 0;
        for (let off = 0; off < buf.length; ) {
          const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.written + off);
          off += bytesWritten;
        }
        this.written += buf.length;
        this.notify();
      };
      try {
        // leaving this loop (abort) returns the iterator, which ends the database read
        for await (const c of chunks) {
          if (this.aborted) break;
          parts.push(c);
          pending += c.length;
          if (pending >= WRITE_CHUNK) await flush();
        }
        if (this.aborted) this.failed = new Error('the spool was closed before its output was complete');
        else await flush();
      } catch (e) {
        this.failed = e;
      } finally {
        this.done = true;
        this.notify();
      }
    })();
    return this.filling;
  }

  /**
   * Resolves once there is something to send (or the output is complete); rejects when the fill failed
   * before writing anything, so that the request can still answer with an error instead of a cut body.
   */
  async ready(): Promise<void> {
    while (!this.written && !this.done) await this.changed();
    if (this.failed && !this.written) throw this.failed;
  }

  /** The file's content from the start, following the fill; destroying it aborts the fill. */
  reader(): Readable {
    let pos = 0;
    let reading = false;
    const readable = new Readable({
      highWaterMark: READ_CHUNK,
      read: () => {
        if (reading) return;
        reading = true;
        pump()
          .catch((e) => readable.destroy(e as Error))
          .finally(() => (reading = false));
      },
      destroy: (err, cb) => {
        this.close().then(
          () => cb(err),
          (e) => cb(err ?? (e as Error)),
        );
      },
    });
    const pump = async () => {
      for (;;) {
        if (readable.destroyed) return;
        if (pos < this.written) {
          const n = Math.min(this.written - pos, READ_CHUNK);
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await this.fh.read(buf, 0, n, pos);
          if (readable.destroyed) return;
          pos += bytesRead;
          if (!readable.push(bytesRead === n ? buf : buf.subarray(0, bytesRead))) return;
          continue;
        }
        if (this.failed) {
          readable.destroy(this.failed instanceof Error ? this.failed : new Error(String(this.failed)));
          return;
        }
        if (this.done) {
          readable.push(null);
          return;
        }
        await this.changed();
      }
    };
    readable.once('end', () => void this.close());
    return readable;
  }

  /** Stops the fill (the database read ends at its next row), then closes and removes the file. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.aborted = true;
      this.notify();
      await this.filling;
      await this.fh.close().catch(() => {});
      if (this.file) await fs.unlink(this.file).catch(() => {});
    })();
    return this.closing;
  }
}
