import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase, BACKEND } from '../helpers.js';
import { call, killServer, sleep, startServer, tokenFor, within, type Answer, type ServerProcess } from '../process.js';

/**
 * Process-level reliability of the real server (`src/main.ts serve` as a child process, real sockets,
 * real database; SQLite in WAL mode, or PostgreSQL with TEST_DATABASE_URL):
 *
 * - SIGKILL in the middle of concurrent writes loses no acknowledged write and leaves no partial record;
 * - SIGTERM lets every accepted in-flight request finish with a 2xx and exits 0.
 *
 * Every loop is bounded in count and time, and every child is killed in `finally`.
 */

const RUN = '/billingRuns/acme';

// ---------------------------------------------------------------------------------------------------
// SIGKILL: the model of what the writers were told, and the check of what the database holds.
//
// Each writer owns its records, so each record's history is known exactly: it is created with the name
// `base` (version 1), and every patch is `[test /sys_version = v, replace /name = base#(v+1)]`, so a
// record at version v must be named `base` (v = 1) or `base#v` (v > 1). A record therefore proves by
// itself that its content and its version were written together.

interface Acked {
  base: string;
  /** The last acknowledged answer (create or patch) for this record. */
  body: Record<string, any>;
  version: number;
}

const nameAt = (base: string, version: number) => (version === 1 ? base : `${base}#${version}`);

/**
 * What a SIGKILL may not do, as a list of violations (empty = the guarantee held):
 * - LOST: an acknowledged create is missing, or a record is below its acknowledged version;
 * - CHANGED: at its acknowledged version a record differs from the acknowledged answer;
 * - PARTIAL: a record lacks name / status / sys_version ≥ 1 / sys_created_at, its name does not match
 *   its version (content and version not written together), or it is more than one patch ahead of
 *   what was acknowledged (each writer has at most one request in flight when the process dies);
 * - PHANTOM / DUPLICATE: a record no writer asked for, or one create stored twice.
 * `attempted` holds the base name of every create that was sent (acknowledged or not): an
 * unacknowledged create may exist or not, but only whole.
 */
export function crashViolations(acked: Map<string, Acked>, attempted: Set<string>, records: Record<string, any>[]): string[] {
  const out: string[] = [];
  const byId = new Map(records.map((r) => [r.id, r]));
  for (const [id, a] of acked) {
    const r = byId.get(id);
    if (!r) {
      out.push(`LOST: acknowledged create ${id} (${a.base}) is missing`);
      continue;
    }
    if (!(r.sys_version >= a.version)) out.push(`LOST: ${id} is at version ${r.sys_version}, version ${a.version} was acknowledged`);
    else if (r.sys_version === a.version) {
      for (const [k, v] of Object.entries(a.body)) {
        try {
          assert.deepEqual(r[k], v);
        } catch {
          out.push(`CHANGED: ${id}.${k} is ${JSON.stringify(r[k])}, acknowledged ${JSON.stringify(v)}`);
        }
      }
    } else if (r.sys_version > a.version + 1)
      out.push(`PARTIAL: ${id} is at version ${r.sys_version}, at most ${a.version + 1} was ever sent`);
  }
  const seen = new Set<string>();
  for (const r of records) {
    const base = typeof r.name === 'string' ? r.name.split('#')[0] : undefined;
    const whole =
      typeof r.id === 'string' &&
      typeof r.name === 'string' &&
      r.status === 'draft' &&
      Number.isInteger(r.sys_version) &&
      r.sys_version >= 1 &&
      typeof r.sys_created_at === 'string' &&
      r.name === nameAt(base!, r.sys_version);
    if (!whole) out.push(`PARTIAL: ${JSON.stringify(r)}`);
    if (base === undefined) continue;
    if (!attempted.has(base)) out.push(`PHANTOM: ${r.id} (${r.name}) was never sent`);
    if (seen.has(base)) out.push(`DUPLICATE: ${base} is stored twice`);
    seen.add(base);
  }
  return out;
}

/** Every record of tenant acme, following LastEvaluatedKey (at most 200 pages). */
async function listAll(port: number, auth: Record<string, string>) {
  const items: Record<string, any>[] = [];
  let key: string | undefined;
  for (let page = 0; page < 200; page++) {
    const q = key ? `&exclusiveStartKey=${encodeURIComponent(key)}` : '';
    const r = await call(port, 'GET', `${RUN}?limit=1000${q}`, undefined, auth);
    assert.equal(r.status, 200, `list: ${r.status} ${r.error ?? JSON.stringify(r.body)}`);
    items.push(...r.body.Items);
    key = r.body.LastEvaluatedKey;
    if (!key) return items;
  }
  throw new Error('more than 200 pages');
}

test('the crash check itself reports a lost, stale, changed or partial record (the test can fail)', () => {
  const body = (id: string, name: string, v: number) => ({
    id,
    name,
    status: 'draft',
    sys_version: v,
    sys_created_at: '2026-01-01T00:00:00Z',
  });
  const acked = new Map<string, Acked>([
    ['a', { base: 'c-0-0', body: body('a', 'c-0-0#2', 2), version: 2 }],
    ['b', { base: 'c-0-1', body: body('b', 'c-0-1', 1), version: 1 }],
  ]);
  const attempted = new Set(['c-0-0', 'c-0-1', 'c-0-2']);
  const ok = [body('a', 'c-0-0#3', 3), body('b', 'c-0-1', 1), body('c', 'c-0-2', 1)];
  assert.deepEqual(crashViolations(acked, attempted, ok), [], 'one unacknowledged patch and one unacknowledged create may exist');
  const lost = crashViolations(acked, attempted, [ok[0]!]);
  assert.match(lost.join('\n'), /LOST: acknowledged create b/);
  assert.match(crashViolations(acked, attempted, [body('a', 'c-0-0', 1), ok[1]!]).join('\n'), /LOST: a is at version 1/);
  assert.match(
    crashViolations(acked, attempted, [{ ...body('a', 'c-0-0#2', 2), status: 'running' }, ok[1]!]).join('\n'),
    /CHANGED: a.status/,
  );
  assert.match(crashViolations(acked, attempted, [ok[0]!, { id: 'b', name: 'c-0-1', sys_version: 1 }]).join('\n'), /PARTIAL/);
  assert.match(
    crashViolations(acked, attempted, [ok[0]!, ok[1]!, body('c', 'c-0-2', 2)]).join('\n'),
    /PARTIAL/,
    'name and version disagree',
  );
  assert.match(crashViolations(acked, attempted, [ok[0]!, ok[1]!, body('d', 'c-9-9', 1)]).join('\n'), /PHANTOM/);
});

// The two server tests run side by side (each starts its own server on its own database): the file
// stays well under 30 s even though each server start costs seconds.
describe('the server process', { concurrency: 2 }, () => {
  /*
   * Control (how this test fails): the assertion on crashViolations() is what catches a lost or partial
   * write. SQLite's durability settings cannot be weakened from outside the server, so the control was
   * run on the checker's input instead: restarting the server on a fresh, empty database instead of the
   * killed one (a total loss; a one-off edited copy of this test) failed with "106 violations after the
   * restart (0 records, 106 acknowledged creates)", one "LOST: acknowledged create …" for each; the
   * unit test above feeds it a missing record, a record below its acknowledged version, a changed field,
   * a record without `status` and a record whose name disagrees with its version, and each is reported.
   * A server that acknowledged before committing (or committed content and version separately) would
   * produce exactly those: a missing id / lower sys_version (LOST), or a name that does not match
   * sys_version (PARTIAL).
   */
  test(`SIGKILL during concurrent writes loses no acknowledged write and leaves no partial record (${BACKEND})`, async (t) => {
    const db = await freshDatabase();
    let server: ServerProcess | undefined;
    const WRITERS = 8;
    const WRITE_MS = 2000;
    const MAX_OPS_PER_WRITER = 5000;
    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    try {
      server = await startServer({ databaseUrl: db.url });
      phase('started');
      const port = server.port;
      const auth = { authorization: `Bearer ${await tokenFor('acme')}` };
      const acked = new Map<string, Acked>();
      const attempted = new Set<string>();
      const unexpected: string[] = [];
      let killed = false;
      let inFlight = 0;
      let ackedCreates = 0;
      let ackedPatches = 0;

      const send = async (method: string, url: string, body: unknown): Promise<Answer> => {
        inFlight++;
        try {
          return await call(
            port,
            method,
            url,
            body,
            method === 'PATCH' ? { ...auth, 'content-type': 'application/json-patch+json' } : auth,
            5000,
          );
        } finally {
          inFlight--;
        }
      };
      const writer = async (w: number) => {
        const mine: string[] = [];
        for (let n = 0; n < MAX_OPS_PER_WRITER && !killed; n++) {
          // Two creates for one patch, patches spread over the writer's records.
          if (n % 3 !== 2 || mine.length === 0) {
            const base = `c-${w}-${n}`;
            attempted.add(base);
            const r = await send('POST', RUN, { name: base, status: 'draft' });
            if (r.status === 201) {
              acked.set(r.body.id, { base, body: r.body, version: r.body.sys_version });
              mine.push(r.body.id);
              ackedCreates++;
            } else if (r.status !== 0 || !killed)
              return void unexpected.push(`create ${base}: ${r.status} ${r.error ?? JSON.stringify(r.body)}`);
            else return;
          } else {
            const id = mine[(n * 7) % mine.length]!;
            const a = acked.get(id)!;
            const r = await send('PATCH', `${RUN}/${id}`, [
              { op: 'test', path: '/sys_version', value: a.version },
              { op: 'replace', path: '/name', value: nameAt(a.base, a.version + 1) },
            ]);
            if (r.status === 200) {
              acked.set(id, { base: a.base, body: r.body, version: r.body.sys_version });
              ackedPatches++;
            } else if (r.status !== 0 || !killed)
              return void unexpected.push(`patch ${id}: ${r.status} ${r.error ?? JSON.stringify(r.body)}`);
            else return;
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
      // ~2 s of writes; longer (up to 10 s) only if a slow machine has not yet had 20 creates and 10
      // patches acknowledged, so that the kill always lands on a real stream of writes.
      await sleep(WRITE_MS);
      for (let i = 0; i < 80 && (ackedCreates < 20 || ackedPatches < 10); i++) await sleep(100);
      const inFlightAtKill = inFlight;
      killed = true;
      server.kill('SIGKILL');
      const { signal } = await server.exited;
      assert.equal(signal, 'SIGKILL');
      assert.ok(
        await within(
          Promise.all(writers).then(() => true),
          10_000,
        ),
        'the writers stopped after the kill',
      );

      assert.deepEqual(unexpected, [], 'every write before the kill was acknowledged');
      assert.ok(inFlightAtKill > 0, 'the kill came while requests were in flight');
      assert.ok(
        ackedCreates >= 20 && ackedPatches >= 10,
        `enough writes were acknowledged: ${ackedCreates} creates, ${ackedPatches} patches`,
      );

      phase('killed');
      server = await startServer({ databaseUrl: db.url });
      phase('restarted');
      const records = await listAll(server.port, auth);
      const violations = crashViolations(acked, attempted, records);
      phase('checked');
      t.diagnostic(
        `${ackedCreates} creates and ${ackedPatches} patches acknowledged, ${inFlightAtKill} in flight at the kill, ` +
          `${records.length} records after the restart (${attempted.size} creates sent); ${phases.join(', ')}`,
      );
      assert.deepEqual(
        violations.slice(0, 20),
        [],
        `${violations.length} violations after the restart (${records.length} records, ${acked.size} acknowledged creates)`,
      );
      assert.ok(records.length >= acked.size && records.length <= attempted.size, `${acked.size} ≤ ${records.length} ≤ ${attempted.size}`);
      // The restarted database still takes writes (no half-applied transaction blocks it).
      assert.equal((await call(server.port, 'POST', RUN, { name: 'after', status: 'draft' }, auth)).status, 201);
    } finally {
      await killServer(server);
      await db.drop();
    }
  });

  // ---------------------------------------------------------------------------------------------------
  // SIGTERM: drain.
  //
  // "Accepted" is observed inside the server process: connection-trace.mjs (preloaded, changes nothing)
  // reports every connection the HTTP server accepts, the request read on it (with our X-Request-Id) and
  // the bytes written before it closed. A client may be reset only if the server never accepted its
  // connection (it was still in the kernel's queue when the listener closed).
  //
  // Every request is a batch of 100 creates (tens of ms; serialised on SQLite, 10 at a time on
  // PostgreSQL). Wave 1 is 40 "slow uploads" (headers sent, body held back until after SIGTERM) and 60
  // ordinary batches; SIGTERM comes once the server has taken every slow upload and ≥ 10 ordinary batches
  // are taken and unanswered (or all are taken), so ≥ 40 accepted requests are in flight, some of them
  // running. Wave 2 (40 more) is sent at the moment of SIGTERM. Then: the process exits 0 with no
  // connection open; every connection the server accepted was answered before it closed; every request
  // it read got a 2xx with its whole batch done; no request got a 5xx; a request without an answer was
  // never read by the server.
  // Control: a one-off copy of this test sending SIGKILL instead of SIGTERM failed (exit { code: null,
  // signal: 'SIGKILL' }; the accepted connections would also be reported unanswered).

  const TRACE = new URL('./connection-trace.mjs', import.meta.url).href;

  test(`SIGTERM drains: every accepted in-flight request gets a 2xx, the process exits 0 (${BACKEND})`, async (t) => {
    const db = await freshDatabase();
    let server: ServerProcess | undefined;
    const SLOW = 40;
    const FAST = 60;
    const WAVE2 = 40;
    const conns = new Map<number, { request?: string; bytesWritten?: number }>();
    const taken = new Set<string>();
    let exitTrace = '';
    let checkTerm = () => {};
    let release!: () => void;
    const bodies = new Promise<void>((r) => (release = r));
    try {
      server = await startServer({
        databaseUrl: db.url,
        nodeArgs: ['--import', TRACE],
        onLine(line) {
          const m = /^accredit-trace (\w+) (.*)$/.exec(line);
          if (!m) return;
          const [kind, rest] = [m[1]!, m[2]!.split(' ')];
          const port = Number(rest[0]);
          if (kind === 'accept') conns.set(port, {});
          else if (kind === 'request') {
            conns.set(port, { ...conns.get(port), request: rest.slice(1).join(' ') });
            if (rest[1] !== '-') taken.add(rest[1]!);
            checkTerm();
          } else if (kind === 'close') conns.set(port, { ...conns.get(port), bytesWritten: Number(rest[1]) });
          else if (kind === 'exit') exitTrace = m[2]!;
        },
      });
      const port = server.port;
      const auth = { authorization: `Bearer ${await tokenFor('acme')}` };
      const batch = (tag: string) => ({
        operations: Array.from({ length: 100 }, (_, i) => ({ operation: 'create', object: { name: `${tag}-${i}`, status: 'draft' } })),
      });
      const answered = new Set<string>();
      const send = (id: string, hold?: Promise<void>) =>
        call(port, 'POST', `${RUN}/batch`, batch(id), { ...auth, 'x-request-id': id }, 30_000, hold).then((r) => {
          answered.add(id);
          return { id, ...r };
        });

      const slowIds = Array.from({ length: SLOW }, (_, i) => `drain-slow-${i}`);
      const fastIds = Array.from({ length: FAST }, (_, i) => `drain-fast-${i}`);
      const pending = (ids: string[]) => ids.filter((id) => taken.has(id) && !answered.has(id)).length;
      // SIGTERM on the trace line that meets the condition (no polling), or after 15 s.
      let atTerm: { slow: number; fast: number } | undefined;
      let term!: () => void;
      const termSent = new Promise<void>((r) => (term = r));
      checkTerm = () => {
        if (atTerm || !slowIds.every((id) => taken.has(id))) return;
        if (pending(fastIds) < 10 && !fastIds.every((id) => taken.has(id))) return;
        atTerm = { slow: pending(slowIds), fast: pending(fastIds) };
        server!.kill('SIGTERM');
        term();
      };
      const wave1 = [...slowIds.map((id) => send(id, bodies)), ...fastIds.map((id) => send(id))];
      await within(termSent, 15_000);
      if (!atTerm) {
        atTerm = { slow: pending(slowIds), fast: pending(fastIds) };
        server.kill('SIGTERM');
      }
      setTimeout(release, 100); // the slow uploads finish while the server drains
      const wave2 = Array.from({ length: WAVE2 }, (_, i) => send(`drain-b-${i}`));
      const exit = await within(server.exited, 30_000);
      const answers = await Promise.all([...wave1, ...wave2]);
      assert.ok(exit, `the process exited within 30 s of SIGTERM:\n${server.output().slice(-2000)}`);

      const errors = new Map<string, number>();
      for (const a of answers) if (a.status === 0) errors.set(a.error!, (errors.get(a.error!) ?? 0) + 1);
      const batchConns = [...conns.values()].filter((c) => c.request?.includes('/batch'));
      t.diagnostic(
        `taken and unanswered at SIGTERM: ${atTerm.slow} slow uploads, ${atTerm.fast} ordinary; connections accepted: ${conns.size} (${batchConns.length} batches); ` +
          `2xx: ${answers.filter((a) => a.status >= 200 && a.status < 300).length} of ${answers.length}; not accepted, no answer: ${JSON.stringify(Object.fromEntries(errors))}`,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${server.output().slice(-2000)}`);
      assert.equal(exitTrace, '0 open=0', 'no connection was still open when the process exited');
      assert.equal(atTerm.slow, SLOW, 'SIGTERM came after the server took every slow upload');
      assert.ok(atTerm.fast >= 1, 'SIGTERM came while ordinary batches were running');

      const show = (a: (typeof answers)[number]) =>
        `${a.id}: ${a.status || a.error} ${a.status ? JSON.stringify(a.body).slice(0, 200) : ''}`;
      assert.deepEqual(answers.filter((a) => a.status >= 500).map(show), [], 'no 5xx while draining');
      const unanswered = [...conns.entries()]
        .filter(([, c]) => !(c.bytesWritten! > 0))
        .map(([p, c]) => `:${p} ${c.request ?? '(no request read)'}`);
      assert.deepEqual(unanswered, [], 'every connection the server accepted was answered before it closed');
      const dropped = answers.filter((a) => taken.has(a.id) && !(a.status >= 200 && a.status < 300 && a.body?.success_count === 100));
      assert.deepEqual(dropped.map(show), [], 'every request the server read ends with a 2xx and its whole batch done');
      assert.deepEqual(
        answers.filter((a) => !taken.has(a.id) && a.status !== 0).map(show),
        [],
        'only requests the server never read go unanswered',
      );
      assert.equal(batchConns.length, answers.filter((a) => a.status !== 0).length, 'one accepted connection per answered request');
    } finally {
      release();
      await killServer(server);
      await db.drop();
    }
  });
});
