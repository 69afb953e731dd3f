import crypto from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { utf8Problem } from '../core/utf8.js';

/**
 * Stands between an uploaded CSV file and csv-parse, and finds the records (quoted fields may hold
 * line breaks) the way csv-parse reads them with our options (`,`, `"` doubled inside quotes,
 * relax_quotes, the record delimiter found first of \r\n, \n, \r). Records that csv-parse should not
 * see are replaced by a one-cell marker record, which `CsvGuard.problem` turns back into the reason:
 * - a record longer than `maxBytes`: csv-parse's own max_record_size drops the rest of every chunk
 *   after the limit (one error per chunk, and the records after it lost), so the limit is kept here:
 *   the record is skipped to its end and is one rejected row;
 * - a record that is not UTF-8 (csv-parse would decode it with U+FFFD in place of the bytes);
 * - a quote still open at the end of the file, named by the line where it opened.
 * A UTF-8 BOM at the start is dropped. Lines count from 1 (the header is line 1).
 */
const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export class CsvGuard extends Transform {
  private readonly marker = `accredit-rejected-${crypto.randomUUID()}#`;
  private readonly reasons = new Map<number, string>();
  private markers = 0;
  private started = false;
  /** The record delimiter, once seen (as csv-parse finds it). */
  private rd: 'crlf' | 'lf' | 'cr' | undefined;
  private quoting = false;
  private fieldEmpty = true;
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  /** The current record's bytes so far (dropped once it is too long). */
  private parts: Buffer[] = [];
  private size = 0;
  private tooLong = false;
  /** Bytes kept for the next chunk when a decision needs the byte after them. */
  private carry: Buffer = Buffer.alloc(0);
  private out: Buffer[] = [];

  constructor(private readonly maxBytes: number) {
    super();
  }

  /** The reason a marker record stands for, or undefined for a record of the file. */
  problem(record: string[]): string | undefined {
    if (record.length !== 1 || !record[0]!.startsWith(this.marker)) return undefined;
    return this.reasons.get(Number(record[0]!.slice(this.marker.length)));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
    try {
      this.scan(this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk, false);
      this.emit_();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback) {
    try {
      this.scan(this.carry, true);
      if (this.quoting) this.endRecord(null, `has a quote opened on line ${this.quoteLine} that is never closed`);
      else if (this.size > 0 || this.tooLong) this.endRecord(null);
      this.emit_();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private emit_() {
    if (!this.out.length) return;
    this.push(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out));
    this.out = [];
  }

  /** Adds buf[from, to) to the current record, or drops it once the record is too long. */
  private keep(buf: Buffer, from: number, to: number) {
    if (to <= from || this.tooLong) return;
    if (this.size + (to - from) > this.maxBytes) {
      this.tooLong = true;
      this.parts = [];
      return;
    }
    this.parts.push(buf.subarray(from, to));
    this.size += to - from;
  }

  /** The current record ends (its delimiter included in what was kept): passed on, or a marker with its reason. */
  private endRecord(delimiter: Buffer | null, why?: string) {
    let reason = why;
    if (this.tooLong) {
      const span = this.line > this.recordLine ? `lines ${this.recordLine} to ${this.line}` : `line ${this.recordLine}`;
      reason = `is longer than ${this.maxBytes} bytes (${span} of the file${why ? `; it ${why}` : ''})`;
    } else if (!reason) {
      const rec = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      const bad = utf8Problem(rec);
      if (bad) {
        let line = this.recordLine;
        for (let i = 0; i < bad.offset; i++) if (rec[i] === LF) line++;
        reason = `${bad.reason.replace(/ at offset \d+/, '')} on line ${line} of the file: save the file as UTF-8`;
      } else {
        this.out.push(rec);
      }
    }
    if (reason) {
      const n = this.markers++;
      this.reasons.set(n, reason);
      this.out.push(
        Buffer.from(`${this.marker}${n}`),
        delimiter ?? Buffer.from(this.rd === 'crlf' ? '\r\n' : this.rd === 'cr' ? '\r' : '\n'),
      );
    }
    this.parts = [];
    this.size = 0;
    this.tooLong = false;
    this.fieldEmpty = true;
  }

  private scan(input: Buffer, end: boolean) {
    let buf = input;
    if (!this.started) {
      if (buf.length < BOM.length && !end && BOM.subarray(0, buf.length).equals(buf)) {
        this.carry = buf;
        return;
      }
      this.started = true;
      if (buf.subarray(0, BOM.length).equals(BOM)) buf = buf.subarray(BOM.length);
    }
    this.carry = Buffer.alloc(0);
    let from = 0; // start of the bytes not yet added to the record
    let i = 0;
    const n = buf.length;
    while (i < n) {
      const b = buf[i]!;
      if (this.quoting) {
        if (b === QUOTE) {
          if (i + 1 >= n && !end) break; // the next byte decides
          const next = buf[i + 1];
          if (next === QUOTE) {
            i += 2; // a doubled quote: one quote in the field
            continue;
          }
          this.quoting = false;
          // closed before a delimiter or the end; otherwise (relax_quotes) the quote is kept in the field
          const closes = next === undefined || next === COMMA || next === LF || next === CR;
          if (!closes) this.fieldEmpty = false;
          i++;
          continue;
        }
        if (b === LF || (b === CR && this.rd === 'cr')) this.line++;
        i++;
        continue;
      }
      if (b === QUOTE && this.fieldEmpty) {
        this.quoting = true;
        this.quoteLine = this.line;
        i++;
        continue;
      }
      if (b === COMMA) {
        this.fieldEmpty = true;
        i++;
        continue;
      }
      if (b === LF || b === CR) {
        if (b === CR && i + 1 >= n && !end && (this.rd === undefined || this.rd === 'crlf')) break; // \r or \r\n: the next byte decides
        const crlf = b === CR && buf[i + 1] === LF;
        if (!this.rd) this.rd = crlf ? 'crlf' : b === LF ? 'lf' : 'cr';
        const len = this.rd === 'crlf' && crlf ? 2 : (this.rd === 'lf' && b === LF) || (this.rd === 'cr' && b === CR) ? 1 : 0;
        if (len) {
          this.keep(buf, from, i + len);
          const delimiter = buf.subarray(i, i + len);
          this.endRecord(Buffer.from(delimiter));
          this.line++;
          i += len;
          from = i;
          this.recordLine = this.line;
          continue;
        }
        if (b === LF) this.line++; // a line break inside a field of a file whose records end otherwise
      }
      this.fieldEmpty = false;
      i++;
    }
    this.keep(buf, from, i);
    if (i < n) this.carry = Buffer.from(buf.subarray(i));
  }
}
