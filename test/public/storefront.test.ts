import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { awayFromMinuteEnd, startApp, type TestApp } from '../helpers.js';
import type { Clock } from '../../src/core/clock.js';

/**
 * The catalog's public routes, without a token: GET /courseOfferings/{t}/public/event/{event_id} and
 * POST /examFees/{t}/public/onlineStore. Only published records, only the whitelisted fields (the
 * records carry private ones that must not appear), nothing of another tenant, the public rate limit,
 * and bad input a 400 naming the field.
 */
const TODAY = '2026-06-15';
const clock: Clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const LIMIT = 5;
let t: TestApp;
let otherToken: string;
type S = Record<string, any>;

async function create(slug: string, body: S, tenant = 'acme'): Promise<S> {
  const res = await t.call({ method: 'POST', url: `/${slug}/${tenant}`, payload: body, auth: tenant === 'acme' ? t.admin : otherToken });
  assert.equal(res.statusCode, 201, `${slug}: ${res.body}`);
  return res.json();
}

// every public request from its own address, so that only the rate-limit test meets the limit
let addr = 0;
const nextIp = () => `198.51.100.${++addr % 250}`;
const pub = (method: 'GET' | 'POST', url: string, payload?: unknown, ip = nextIp()) =>
  t.app.inject({ method, url, remoteAddress: ip, ...(payload !== undefined ? { payload: payload as S } : {}) });
async function ok(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<S> {
  const res = await pub(method, url, payload);
  assert.equal(res.statusCode, 200, `${method} ${url}: ${res.body}`);
  return res.json();
}
async function refused(method: 'GET' | 'POST', url: string, payload: unknown, field: string) {
  const res = await pub(method, url, payload);
  assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(payload)}: ${res.body}`);
  assert.ok(
    res.json().errors?.some((e: S) => e.field === field || e.field?.startsWith(`${field}.`) || e.field?.startsWith(`${field}[`)) ||
      res.json().message.includes(field),
    `names ${field}: ${res.body}`,
  );
}

const PRIVATE = {
  webinar_url: 'https://zoom.example/j/secret',
  webinar_integration_options: { webinar_id: 'w-secret' },
  survey_url: 'https://s.example',
};
const offerings: Record<string, S> = {};
const exams: Record<string, S> = {};
const fees: Record<string, S> = {};
const sittings: Record<string, S> = {};

before(async () => {
  t = await startApp({ clock, env: { PUBLIC_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  otherToken = await t.token({ tenants: ['other'], scope: 'certifications:admin' });
  const offering = (name: string, over: S) =>
    create('courseOfferings', {
      name,
      event_id: 'expo-2026',
      start_date: '2026-07-01T09:00:00Z',
      end_date: '2026-07-01T17:00:00Z',
      description: `${name} description`,
      custom_field_values: [{ custom_field_id: 'cf1', string_value: 'internal note' }],
      ...PRIVATE,
      ...over,
    });
  offerings.a = await offering('Published A', { publish_to_portal: true });
  offerings.b = await offering('Published B', { publish_to_portal: true, is_active: true });
  offerings.c = await offering('Published C', { publish_to_portal: true });
  offerings.hidden = await offering('Not published', { publish_to_portal: false });
  offerings.unset = await offering('Publish flag unset', {});
  offerings.inactive = await offering('Inactive', { publish_to_portal: true, is_active: false });
  offerings.otherEvent = await offering('Other event', { publish_to_portal: true, event_id: 'other-event' });
  offerings.otherTenant = await create('courseOfferings', { name: 'Theirs', event_id: 'expo-2026', publish_to_portal: true }, 'other');

  exams.one = await create('exams', {
    name: 'Exam One',
    description: 'the first',
    display_in_portal_as: 'One',
    passing_score: 70,
    is_active: true,
  });
  exams.two = await create('exams', { name: 'Exam Two', passing_score: 60 });
  exams.retired = await create('exams', { name: 'Retired', is_active: false });
  exams.theirs = await create('exams', { name: 'Their exam' }, 'other');
  const fee = (key: string, exam: S, over: S, tenant = 'acme') =>
    create(
      'examFees',
      { exam_id: exam.id, name: key, price: 100, member_price: 80, notes: 'internal pricing note', cancellation_fee: 5, ...over },
      tenant,
    ).then((r) => (fees[key] = r));
  await fee('onSale', exams.one!, { publish_to_portal: true });
  await fee('unpublished', exams.one!, { publish_to_portal: false });
  await fee('inactive', exams.one!, { publish_to_portal: true, is_active: false });
  await fee('notYet', exams.one!, { publish_to_portal: true, portal_options: { available_from: '2026-07-01T00:00:00Z' } });
  await fee('over', exams.one!, { publish_to_portal: true, portal_options: { available_until: '2026-06-01T00:00:00Z' } });
  await fee('twoOnSale', exams.two!, { publish_to_portal: true, portal_options: { available_from: '2026-06-01T00:00:00Z' } });
  await fee('retiredExam', exams.retired!, { publish_to_portal: true });
  await fee('theirs', exams.theirs!, { publish_to_portal: true }, 'other');
  const sitting = (key: string, exam: S, over: S, tenant = 'acme') =>
    create('examOfferings', { name: key, exam_id: exam.id, type: 'live', location: 'none', date: '2026-07-10', ...over }, tenant).then(
      (r) => (sittings[key] = r),
    );
  await sitting('upcoming', exams.one!, { fee_id: fees.onSale!.id, retest_fee_id: fees.unpublished!.id, is_active: true });
  await sitting('today', exams.one!, { date: TODAY });
  await sitting('past', exams.one!, { date: '2026-06-14' });
  await sitting('inactive', exams.one!, { is_active: false });
  await sitting('two', exams.two!, {});
  await sitting('theirs', exams.theirs!, {}, 'other');
});
after(() => t.close());

const PUBLIC_OFFERING_FIELDS = new Set([
  'id', 'name', 'type', 'course_id', 'course_type_id', 'event_id', 'program_ids', 'training_location_id', 'address', 'instructor_id',
  'additional_instructor_ids', 'start_date', 'end_date', 'timezone_mode', 'timezone', 'timezone_offset', 'timezone_abbreviation',
  'fee_id', 'sell_from', 'sell_until', 'short_description', 'description', 'enable_capacity',
]); // biome-ignore format: a list

describe('GET /courseOfferings/{tenantId}/public/event/{event_id}', () => {
  const url = '/courseOfferings/acme/public/event/expo-2026';

  test("the event's published offerings only, with the public fields only, without a token", async () => {
    const page = await ok('GET', url);
    const published = [offerings.a, offerings.b, offerings.c].map((o) => o!.id).sort();
    assert.deepEqual(
      page.Items.map((o: S) => o.id),
      published,
    );
    assert.equal(page.Count, 3);
    assert.equal(page.LastEvaluatedKey, undefined);
    for (const o of page.Items) {
      for (const k of Object.keys(o)) assert.ok(PUBLIC_OFFERING_FIELDS.has(k), `field ${k} is not public`);
      assert.equal(o.event_id, 'expo-2026');
      assert.match(o.description, /description$/);
    }
    const text = JSON.stringify(page);
    for (const leak of ['secret', 'internal note', 'sys_', 'survey', 'publish_to_portal', 'custom_field_values'])
      assert.ok(!text.includes(leak), leak);
  });

  test("another tenant's offerings of the same event, and another event's, are not listed", async () => {
    const theirs = await ok('GET', '/courseOfferings/other/public/event/expo-2026');
    assert.deepEqual(
      theirs.Items.map((o: S) => o.id),
      [offerings.otherTenant!.id],
    );
    assert.deepEqual(
      (await ok('GET', '/courseOfferings/acme/public/event/other-event')).Items.map((o: S) => o.id),
      [offerings.otherEvent!.id],
    );
    assert.equal((await ok('GET', '/courseOfferings/nobody/public/event/expo-2026')).Count, 0);
  });

  test('pages with limit and exclusiveStartKey, and takes a projection of public fields', async () => {
    const first = await ok('GET', `${url}?limit=2`);
    assert.equal(first.Count, 2);
    assert.ok(first.LastEvaluatedKey);
    const second = await ok('GET', `${url}?limit=2&exclusiveStartKey=${first.LastEvaluatedKey}`);
    assert.equal(second.Count, 1);
    assert.equal(second.LastEvaluatedKey, undefined);
    assert.equal(new Set([...first.Items, ...second.Items].map((o: S) => o.id)).size, 3);
    const projected = await ok('GET', `${url}?fields=name`);
    for (const o of projected.Items) assert.deepEqual(Object.keys(o).sort(), ['id', 'name']);
  });

  test('bad input is a 400 naming the parameter', async () => {
    await refused('GET', `${url}?limit=0`, undefined, 'limit');
    await refused('GET', `${url}?limit=101`, undefined, 'limit');
    await refused('GET', `${url}?exclusiveStartKey=nope!`, undefined, 'exclusiveStartKey');
    await refused('GET', `${url}?fields=webinar_url`, undefined, 'fields');
    await refused('GET', `${url}?fields=sys_created_by_id`, undefined, 'fields');
    await refused('GET', '/courseOfferings/acme/public/event/bad%20id', undefined, 'event_id');
  });
});

describe('POST /examFees/{tenantId}/public/onlineStore', () => {
  const url = '/examFees/acme/public/onlineStore';
  const ids = (xs: S[]) => xs.map((x) => x.id).sort();

  test('the exams asked for, their fees on sale and their offerings to come, in the shapes of the catalog', async () => {
    const store = await ok('POST', url, { exam_ids: [exams.one!.id] });
    assert.deepEqual(Object.keys(store).sort(), ['exams', 'fees', 'offerings']);
    assert.deepEqual(store.exams, [{ id: exams.one!.id, name: 'Exam One', description: 'the first', display_in_portal_as: 'One' }]);
    assert.deepEqual(store.fees, [{ id: fees.onSale!.id, exam_id: exams.one!.id, name: 'onSale', price: 100, member_price: 80 }]);
    assert.deepEqual(ids(store.offerings), ids([sittings.upcoming!, sittings.today!]));
    const upcoming = store.offerings.find((o: S) => o.id === sittings.upcoming!.id);
    assert.deepEqual(upcoming, {
      id: sittings.upcoming!.id,
      name: 'upcoming',
      exam_id: exams.one!.id,
      type: 'live',
      location: 'none',
      date: '2026-07-10',
      fee_id: fees.onSale!.id,
    }, 'the unpublished retest fee is not named; is_active and sys_* are not shown'); // biome-ignore format: one record
    const text = JSON.stringify(store);
    for (const leak of ['internal pricing note', 'passing_score', 'cancellation_fee', 'sys_', 'is_active', fees.unpublished!.id]) {
      assert.ok(!text.includes(leak), leak);
    }
  });

  test('exam_restriction: include (default), exclude, none; inactive exams never', async () => {
    const all = await ok('POST', url, { exam_ids: [], exam_restriction: 'none' });
    assert.deepEqual(ids(all.exams), ids([exams.one!, exams.two!]));
    assert.deepEqual(ids(all.fees), ids([fees.onSale!, fees.twoOnSale!]));
    assert.deepEqual(ids(all.offerings), ids([sittings.upcoming!, sittings.today!, sittings.two!]));
    const exclude = await ok('POST', url, { exam_ids: [exams.one!.id], exam_restriction: 'exclude' });
    assert.deepEqual(ids(exclude.exams), [exams.two!.id]);
    assert.deepEqual(ids(exclude.fees), [fees.twoOnSale!.id]);
    const include = await ok('POST', url, { exam_ids: [exams.two!.id, exams.retired!.id], exam_restriction: 'include' });
    assert.deepEqual(ids(include.exams), [exams.two!.id]);
    assert.deepEqual(await ok('POST', url, { exam_ids: [] }), { exams: [], fees: [], offerings: [] });
  });

  test("another tenant's exams are not shown, even by id", async () => {
    assert.deepEqual(await ok('POST', url, { exam_ids: [exams.theirs!.id] }), { exams: [], fees: [], offerings: [] });
    const theirs = await ok('POST', '/examFees/other/public/onlineStore', { exam_ids: [exams.theirs!.id, exams.one!.id] });
    assert.deepEqual(ids(theirs.exams), [exams.theirs!.id]);
    assert.deepEqual(ids(theirs.fees), [fees.theirs!.id]);
    assert.deepEqual(ids(theirs.offerings), [sittings.theirs!.id]);
  });

  test('bad input is a 400 naming the field', async () => {
    await refused('POST', url, {}, 'exam_ids');
    await refused('POST', url, { exam_ids: 'x' }, 'exam_ids');
    await refused('POST', url, { exam_ids: ['bad id'] }, 'exam_ids');
    await refused('POST', url, { exam_ids: Array.from({ length: 101 }, (_, i) => `e${i}`) }, 'exam_ids');
    await refused('POST', url, { exam_ids: [], exam_restriction: 'some' }, 'exam_restriction');
    await refused('POST', url, { exam_ids: [], price: 1 }, 'price');
  });
});

describe('the public rate limit applies', () => {
  test(`${LIMIT} requests a minute per address over the public routes, then 429 with Retry-After`, async () => {
    const ip = '192.0.2.99';
    await awayFromMinuteEnd();
    for (let i = 0; i < LIMIT; i++) {
      const res =
        i % 2
          ? await pub('GET', '/courseOfferings/acme/public/event/expo-2026', undefined, ip)
          : await pub('POST', '/examFees/acme/public/onlineStore', { exam_ids: [] }, ip);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['x-ratelimit-remaining'], String(LIMIT - i - 1));
    }
    for (const res of [
      await pub('GET', '/courseOfferings/acme/public/event/expo-2026', undefined, ip),
      await pub('POST', '/examFees/acme/public/onlineStore', { exam_ids: [] }, ip),
      await pub('GET', '/public/verify/acme/p/1', undefined, ip),
    ]) {
      assert.equal(res.statusCode, 429, res.body);
      assert.ok(Number(res.headers['retry-after']) >= 1);
    }
  });
});
