import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { awayFromMinuteEnd, startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';
import { addDays, injectCall } from '../billing/population.js';

/**
 * The public registry without a token: directory search shows only a public directory's published
 * fields (never an e-mail address unless listed, never an internal id), private directories and other
 * tenants' data are a 404, the per-address rate limit answers 429 with Retry-After; certificate
 * verification (active, in grace, lapsed, inactive, unknown, other tenant). With a token, any
 * directory's entries, its eligibility criteria applied.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const LIMIT = 5;
let t: TestApp;
let otherToken: string;

const call = injectCall(() => t);
const otherCall = injectCall(
  () => t,
  () => otherToken,
);
/** A token-less GET from its own client address (each address has its own rate-limit budget). */
let address = 0;
const pub = (url: string, remoteAddress = `10.0.${Math.floor(++address / 250)}.${(address % 250) + 1}`) =>
  t.call({ method: 'GET', url, auth: false, remoteAddress });

let p1: any;
let p2: any;
const certs: Record<string, any> = {};
const dirs: Record<string, any> = {};
let otherDir: any;
let otherProgram: any;

const HOLDERS = [
  // key, program, number, first, last, city, status, expiration offset, grace end offset
  ['ada', 1, 1001, 'Ada', 'Smith', 'Boston', 'active', 100, 130],
  ['ben', 1, 1002, 'Ben', 'Smithers', 'Austin', 'active', -10, 20],
  ['chloe', 1, 1003, 'Chloe', 'Smith', 'Boston', 'active', -60, -30],
  ['david', 1, 1004, 'David', 'Smith', 'Denver', 'inactive', 200, 230],
  ['emma', 2, 2001, 'Emma', 'Jones', 'Boston', 'active', 300, 330],
  ['farid', 2, 2002, 'Farid', 'Smith', 'Miami', 'suspended', 300, 330],
  ['gina', 1, 1005, 'Gina', 'Smith', 'Boston', 'active', undefined, undefined],
] as const;

before(async () => {
  t = await startApp({ clock, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  otherToken = await t.token({ tenants: ['other'], scope: 'certifications:admin' });
  p1 = await call('POST', '/programs/acme', { name: 'Registered Nurse' }, 201);
  p2 = await call('POST', '/programs/acme', { name: 'Critical Care' }, 201);
  for (const [k, p, number, first, last, city, status, exp, grace] of HOLDERS) {
    certs[k] = await call(
      'POST',
      '/certifications/acme',
      {
        number,
        contact_id: `contact-${k}`,
        customer_id: `customer-${k}`,
        program_id: (p === 1 ? p1 : p2).id,
        status,
        name: `${first} ${last}`,
        first_name: first,
        last_name: last,
        email_address: `${k}@example.org`,
        city,
        certification_date: '2024-01-10',
        ...(exp !== undefined ? { expiration_date: addDays(TODAY, exp) } : {}),
        ...(grace !== undefined ? { grace_period_end_date: addDays(TODAY, grace) } : {}),
      },
      201,
    );
  }
  dirs.search = await call(
    'POST',
    '/directories/acme',
    {
      name: 'Find a nurse',
      is_public: true,
      display_mode: 'search',
      searchable_fields: [{ name: 'last_name', label: 'Last name' }, { name: 'city', label: 'City' }, { name: 'number' }],
      additional_fields: ['first_name', 'expiration_date'],
    },
    201,
  );
  dirs.email = await call(
    'POST',
    '/directories/acme',
    {
      name: 'RN contacts',
      is_public: true,
      display_mode: 'list',
      searchable_fields: [{ name: 'last_name' }],
      additional_fields: ['email_address', 'status'],
      program_ids: [p1.id],
      certification_statuses: ['active', 'inactive'],
    },
    201,
  );
  dirs.internals = await call(
    'POST',
    '/directories/acme',
    {
      name: 'Careless',
      is_public: true,
      display_mode: 'list',
      searchable_fields: [{ name: 'last_name' }, { name: 'contact_id' }],
      additional_fields: ['customer_id', 'id', 'sys_created_by_id', 'sys_last_security_context', 'status_reason_id'],
    },
    201,
  );
  dirs.private = await call(
    'POST',
    '/directories/acme',
    {
      name: 'Critical care staff',
      is_public: false,
      display_mode: 'list',
      searchable_fields: [{ name: 'last_name' }],
      additional_fields: ['email_address'],
      enable_eligibility_criteria: true,
      eligibility_criteria: { certificants: true, certification_options: { program_ids: [p2.id] }, members: true },
    },
    201,
  );
  dirs.unset = await call(
    'POST',
    '/directories/acme',
    { name: 'No flag', searchable_fields: [{ name: 'last_name' }], display_mode: 'list' },
    201,
  );

  otherProgram = await otherCall('POST', '/programs/other', { name: 'Other programme' }, 201);
  await otherCall(
    'POST',
    '/certifications/other',
    {
      number: 1001,
      contact_id: 'o-1',
      program_id: otherProgram.id,
      status: 'active',
      name: 'Olga Smith',
      last_name: 'Smith',
      email_address: 'olga@other.example',
      expiration_date: addDays(TODAY, 100),
    },
    201,
  );
  otherDir = await otherCall(
    'POST',
    '/directories/other',
    { name: 'Other registry', is_public: true, display_mode: 'list', searchable_fields: [{ name: 'last_name' }] },
    201,
  );
});
after(() => t.close());

const search = (dir: any, query: string, tenant = 'acme') =>
  pub(`/public/directories/${tenant}/${dir.id}/search${query ? `?${query}` : ''}`);
const numbers = (body: any) => body.Items.map((x: any) => x.number).sort();
/** No certification id, contact or customer id, e-mail or sys field of any record in a body. */
function assertNothingInternal(text: string) {
  for (const c of Object.values(certs)) {
    assert.ok(!text.includes(c.id), `certification id ${c.id} revealed`);
    assert.ok(!text.includes(String(c.contact_id)) && !text.includes(String(c.customer_id)), 'contact / customer id revealed');
  }
  assert.ok(!/sys_/.test(text), 'sys fields revealed');
}

describe('public directory search (no token)', () => {
  test('entries show the number, the programme and the published fields only', async () => {
    const res = await search(dirs.search, 'last_name=smith');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    // active certifications only by default (Chloe's lapsed past her grace end: inactive today); "smith" also matches Smithers
    assert.deepEqual(numbers(body), [1001, 1002, 1005]);
    for (const e of body.Items) {
      assert.deepEqual(
        Object.keys(e).filter((k) => !['program', 'number', 'last_name', 'city', 'first_name', 'expiration_date'].includes(k)),
        [],
        JSON.stringify(e),
      );
      assert.deepEqual(e.program, { id: p1.id, name: 'Registered Nurse' });
    }
    const ada = body.Items.find((e: any) => e.number === 1001);
    assert.deepEqual(ada, {
      program: { id: p1.id, name: 'Registered Nurse' },
      number: 1001,
      last_name: 'Smith',
      city: 'Boston',
      first_name: 'Ada',
      expiration_date: addDays(TODAY, 100),
    });
    assert.ok(!res.body.includes('@'), 'no e-mail address unless listed');
    assertNothingInternal(res.body);
  });

  test('criteria: case-insensitive contains on strings, exact numbers, combined with and', async () => {
    assert.deepEqual(numbers((await search(dirs.search, 'city=BOST')).json()), [1001, 1005, 2001]);
    assert.deepEqual(numbers((await search(dirs.search, 'city=boston&last_name=SMITH')).json()), [1001, 1005]);
    assert.deepEqual(numbers((await search(dirs.search, 'number=1002')).json()), [1002]);
    assert.deepEqual(numbers((await search(dirs.search, 'number=100')).json()), [], 'numbers match exactly');
    assert.deepEqual(numbers((await search(dirs.search, `last_name=${encodeURIComponent('%')}`)).json()), [], 'wildcards are literal');
  });

  test('bad queries are a 400: no criterion in search mode, a field that is not a criterion, a bad number', async () => {
    for (const q of ['', 'limit=5', 'first_name=Ada', 'email_address=ada', 'number=12x', 'last_name=a&last_name=b']) {
      const res = await search(dirs.search, q);
      assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
    }
    assert.match((await search(dirs.search, 'email_address=ada')).json().message, /not a search criterion/);
  });

  test('e-mail addresses appear only when the directory lists them; programmes and statuses as configured', async () => {
    const res = await search(dirs.email, '');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    // list mode, programme p1 only, active and inactive (David is inactive; Farid, suspended, is in p2)
    assert.deepEqual(numbers(body), [1001, 1002, 1003, 1004, 1005]);
    assert.equal(body.Items.find((e: any) => e.number === 1001).email_address, 'ada@example.org');
    assert.equal(body.Items.find((e: any) => e.number === 1004).status, 'inactive');
    assert.equal(
      body.Items.find((e: any) => e.number === 1003).status,
      'inactive',
      'lapsed past its grace end: inactive today, before any sweep',
    );
    assertNothingInternal(res.body);
  });

  test('internal ids are never published, whatever the directory names', async () => {
    const res = await search(dirs.internals, 'last_name=smith');
    assert.equal(res.statusCode, 200, res.body);
    for (const e of res.json().Items) assert.deepEqual(Object.keys(e).sort(), ['last_name', 'number', 'program']);
    assertNothingInternal(res.body);
    const byContact = await search(dirs.internals, 'contact_id=contact-ada');
    assert.equal(byContact.statusCode, 400, 'an internal id is not a criterion');
  });

  test('pages: limit and exclusiveStartKey walk every entry once', async () => {
    const seen: number[] = [];
    let key: string | undefined;
    let pages = 0;
    do {
      const res = await search(dirs.search, `last_name=smith&limit=1${key ? `&exclusiveStartKey=${encodeURIComponent(key)}` : ''}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      seen.push(...body.Items.map((e: any) => e.number));
      key = body.LastEvaluatedKey;
      pages++;
    } while (key && pages < 10);
    assert.deepEqual(seen.sort(), [1001, 1002, 1005]);
    assert.equal((await search(dirs.search, 'last_name=smith&limit=101')).statusCode, 400, 'at most 100 a page');
    assert.equal((await search(dirs.search, 'last_name=smith&exclusiveStartKey=forged')).statusCode, 400);
  });

  test('a directory that is not public is the same 404 as one that does not exist', async () => {
    const priv = await search(dirs.private, 'last_name=jones');
    const unset = await search(dirs.unset, '');
    const missing = await pub(`/public/directories/acme/no-such-directory/search?last_name=jones`);
    for (const res of [priv, unset, missing]) {
      assert.equal(res.statusCode, 404, res.body);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'requestId', 'statusCode']);
      assert.ok(!res.body.includes('Critical care staff') && !res.body.includes('Jones'));
    }
    assert.equal(priv.json().message.replace(dirs.private.id, 'X'), missing.json().message.replace('no-such-directory', 'X'));
  });

  test("another tenant's directory or records are a 404 / never listed", async () => {
    assert.equal((await search(dirs.search, 'last_name=smith', 'other')).statusCode, 404, 'acme directory on the other tenant path');
    const theirs = await search(otherDir, '', 'acme');
    assert.equal(theirs.statusCode, 404, 'other directory on the acme path');
    const own = await search(otherDir, '', 'other');
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(numbers(own.json()), [1001]);
    assert.equal(own.json().Items[0].program.name, 'Other programme');
    assert.ok(!own.body.includes('Registered Nurse'));
    // and the acme search never lists the other tenant's Smith
    const acme = await search(dirs.search, 'last_name=smith&number=1001');
    assert.deepEqual(
      acme.json().Items.map((e: any) => e.program.id),
      [p1.id],
    );
  });

  test('a token changes nothing on the public route', async () => {
    const res = await t.call({
      method: 'GET',
      url: `/public/directories/acme/${dirs.private.id}/search?last_name=jones`,
      remoteAddress: '10.9.9.9',
    });
    assert.equal(res.statusCode, 404);
  });
});

describe('directory entries with a token', () => {
  test('any directory, its eligibility criteria applied', async () => {
    const res = await t.call({ method: 'GET', url: `/directories/acme/${dirs.private.id}/entries` });
    assert.equal(res.statusCode, 200, res.body);
    // programme p2 only (certificants of p2), active only: Emma
    assert.deepEqual(res.json().Items, [
      { program: { id: p2.id, name: 'Critical Care' }, number: 2001, last_name: 'Jones', email_address: 'emma@example.org' },
    ]);
    const pubToo = await t.call({ method: 'GET', url: `/directories/acme/${dirs.search.id}/entries?city=miami` });
    assert.equal(pubToo.statusCode, 200);
    assert.deepEqual(pubToo.json().Items, [], 'Farid is suspended');
  });

  test('needs a token for the tenant, with the read scope', async () => {
    assert.equal((await t.call({ method: 'GET', url: `/directories/acme/${dirs.private.id}/entries`, auth: false })).statusCode, 401);
    const reader = await t.token({ scope: 'certifications:read' });
    assert.equal((await t.call({ method: 'GET', url: `/directories/acme/${dirs.private.id}/entries`, auth: reader })).statusCode, 200);
    assert.equal((await t.call({ method: 'GET', url: `/directories/other/${otherDir.id}/entries` })).statusCode, 403);
    assert.equal((await otherCall('GET', `/directories/other/${dirs.private.id}/entries`, undefined, 404)).code, 'not_found');
  });
});

describe('certificate verification (no token)', () => {
  const verify = (program: any, number: number | string, tenant = 'acme') => pub(`/public/verify/${tenant}/${program.id}/${number}`);

  test('active: valid, with the holder name and dates, and nothing else', async () => {
    const res = await verify(p1, 1001);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      valid: true,
      checked_on: TODAY,
      program: { id: p1.id, name: 'Registered Nurse' },
      number: 1001,
      holder: { name: 'Ada Smith' },
      status: 'active',
      standing: 'current',
      certification_date: '2024-01-10',
      expiration_date: addDays(TODAY, 100),
      in_grace_period: false,
      grace_period_end_date: addDays(TODAY, 130),
    });
    assertNothingInternal(res.body);
    assert.ok(!res.body.includes('@'));
  });

  test('in its grace period: valid, in_grace_period', async () => {
    const body = (await verify(p1, 1002)).json();
    assert.equal(body.valid, true);
    assert.equal(body.in_grace_period, true);
    assert.equal(body.grace_period_end_date, addDays(TODAY, 20));
  });

  test('lapsed (past its grace period, still marked active): not valid, inactive and lapsed today', async () => {
    const body = (await verify(p1, 1003)).json();
    assert.equal(body.valid, false);
    assert.equal(body.status, 'inactive');
    assert.equal(body.standing, 'lapsed');
    assert.equal(body.in_grace_period, false);
  });

  test('inactive or suspended: not valid, status shown; no expiration date: valid', async () => {
    assert.deepEqual(((b) => [b.valid, b.status])((await verify(p1, 1004)).json()), [false, 'inactive']);
    assert.deepEqual(((b) => [b.valid, b.status])((await verify(p2, 2002)).json()), [false, 'suspended']);
    const g = (await verify(p1, 1005)).json();
    assert.equal(g.valid, true);
    assert.equal(g.expiration_date, undefined);
  });

  test('unknown number, wrong programme, unknown programme: 404 with valid false', async () => {
    for (const res of [await verify(p1, 9999), await verify(p2, 1001), await pub(`/public/verify/acme/no-such-program/1001`)]) {
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().valid, false);
      assert.equal(res.json().code, 'not_found');
    }
    assert.equal((await verify(p1, 'abc')).statusCode, 400);
  });

  test("another tenant's certificate is a 404 from this tenant's path, and the reverse", async () => {
    assert.equal((await verify(otherProgram, 1001, 'acme')).statusCode, 404);
    assert.equal((await verify(p1, 1001, 'other')).statusCode, 404);
    const theirs = await verify(otherProgram, 1001, 'other');
    assert.equal(theirs.statusCode, 200);
    assert.equal(theirs.json().holder.name, 'Olga Smith');
  });
});

describe('rate limit per client address', () => {
  test(`${LIMIT} requests a minute, then 429 with Retry-After; other addresses unaffected; tokens do not lift it`, async () => {
    const ip = '192.0.2.7';
    await awayFromMinuteEnd();
    for (let i = 0; i < LIMIT; i++) {
      const url = i % 2 ? `/public/verify/acme/${p1.id}/1001` : `/public/directories/acme/${dirs.search.id}/search?last_name=smith`;
      const res = await pub(url, ip);
      assert.equal(res.statusCode, 200, `request ${i + 1}: ${res.body}`);
      assert.equal(res.headers['x-ratelimit-remaining'], String(LIMIT - i - 1));
    }
    const limited = await pub(`/public/verify/acme/${p1.id}/1001`, ip);
    assert.equal(limited.statusCode, 429, limited.body);
    const retry = Number(limited.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, String(limited.headers['retry-after']));
    assert.equal(limited.json().code, 'too_many_requests');
    const withToken = await t.call({ method: 'GET', url: `/public/verify/acme/${p1.id}/1001`, remoteAddress: ip });
    assert.equal(withToken.statusCode, 429, 'a token does not lift the public limit');
    assert.equal((await pub(`/public/verify/acme/${p1.id}/1001`, '192.0.2.8')).statusCode, 200);
    // the authenticated API is not counted by the public limit
    assert.equal(
      (await t.call({ method: 'GET', url: `/directories/acme/${dirs.search.id}/entries?city=boston`, remoteAddress: ip })).statusCode,
      200,
    );
  });
});
