import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { defineResource, search, type Resource } from '../resources/kit/define.js';
import { anyObject, bool, date, dateTime, int, list, num, obj, oneOf, str } from '../resources/kit/fields.js';
import { RESOURCES } from '../resources/index.js';
import { isAppError, type AppError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { openStore, type Store } from '../store/store.js';
import { syncTable } from '../store/migrate.js';
import { RecordTable } from '../store/records.js';
import { asTenant } from '../store/tenant-scope.js';
import { freshDatabase, PG_URL, type TestDb } from '../../test/helpers.js';
import { queryDefinitionList, queryTypeOf, type QueryType } from './definitions.js';
import { checkOutputFields, checkSort, compileCriteria, compileSort, MAX_CONDITIONS, MAX_DEPTH } from './compile.js';
import { csvCell, render } from './render.js';

/**
 * The query compiler, executed: criteria compiled for a small table and run on a real database
 * (in-memory SQLite; PostgreSQL too when TEST_DATABASE_URL is set), every operator, nesting, type
 * checks, and injection attempts. Each case runs on two tables holding the same records: one whose
 * fields have extracted columns (f_*), one where every field is read from the JSON, so both ways of
 * reading a field are proven to agree.
 */
const fields = {
  key: str(),
  name: str(),
  status: oneOf(['active', 'inactive', 'retired']),
  amount: num(),
  count: int(),
  flag: bool(),
  day: date(),
  at: dateTime(),
  tags: list(str()),
  scores: list(num()),
  address: obj({ city: str(), zip: str(), geo: obj({ lat: num() }) }),
  lines: list(obj({ n: str() })),
  extra: anyObject(),
};
const indexed = defineResource({
  slug: 'qIndexed',
  name: 'Q Indexed',
  singular: 'q indexed',
  typeName: 'QIndexed',
  table: 'q_indexed',
  coverage: 'test',
  fields,
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    status: search.anyOf('status'),
    amount: search.anyOf('amount'),
    flag: search.anyOf('flag'),
    at: search.range('at'),
    day: search.range('day'),
    city: search.anyOf('address.city'),
  },
});
const plain = defineResource({
  slug: 'qPlain',
  name: 'Q Plain',
  singular: 'q plain',
  typeName: 'QPlain',
  table: 'q_plain',
  coverage: 'test',
  fields,
  search: { ids: search.ids() },
});

const INJECTED = "O'Brien'; drop table q_plain; --";
const RECORDS: Record<string, unknown>[] = [
  {
    key: 'a',
    name: 'Alpha',
    status: 'active',
    amount: 10,
    count: 1,
    flag: true,
    day: '2025-01-10',
    at: '2025-01-10T10:00:00Z',
    tags: ['x', 'y'],
    scores: [1, 2],
    address: { city: 'Paris', zip: '75001', geo: { lat: 48.8 } },
    lines: [{ n: '1' }],
    extra: { k: 1 },
  },
  {
    key: 'b',
    name: 'beta',
    status: 'inactive',
    amount: 20.5,
    count: 2,
    flag: false,
    day: '2025-02-01',
    at: '2025-02-01T00:30:00+02:00',
    tags: [],
    scores: [3],
    address: { city: 'paris' },
    lines: [],
    extra: {},
  },
  {
    key: 'c',
    name: INJECTED,
    status: 'active',
    amount: -5,
    count: 3,
    day: '2024-12-31',
    at: '2024-12-31T23:59:59.999Z',
    tags: ['y'],
    address: { city: 'Lyon', zip: '69001' },
  },
  { key: 'd', name: '100% _sure_', status: 'retired', amount: 0, flag: true, tags: ['x'], at: '2025-01-10T23:59:59Z' },
  { key: 'e', name: 'back\\slash', count: 5, day: '2025-01-10' },
  { key: 'f' },
  {
    key: 'g',
    name: '',
    status: 'inactive',
    amount: 1e6,
    count: 10,
    flag: false,
    at: '2025-01-11T00:00:00.000Z',
    tags: ['z', 'x'],
    address: { geo: { lat: -1 } },
  },
  { key: 'h', name: 'Ünïcode é', amount: 10, count: 1 },
];
const ALL = RECORDS.map((r) => r.key as string);
const except = (...keys: string[]) => ALL.filter((k) => !keys.includes(k));

interface Backend {
  name: string;
  store: Store;
  db?: TestDb;
}
const backends: Backend[] = [];

before(async () => {
  const sqlite = await openStore('sqlite::memory:');
  backends.push({ name: 'sqlite', store: sqlite });
  if (PG_URL) {
    const db = await freshDatabase();
    backends.push({ name: 'postgres', store: await openStore(db.url), db });
  }
  for (const b of backends) {
    for (const r of [indexed, plain]) {
      await syncTable(b.store.db, b.store.dialect, r.table);
      const table = new RecordTable(r.table, b.store.dialect);
      await asTenant('t1', async () => {
        for (const rec of RECORDS)
          await table.insert(b.store.db, 't1', { id: newId(), ...rec, sys_version: 1, sys_created_at: '2025-01-01T00:00:00.000Z' });
      });
    }
  }
});
after(async () => {
  for (const b of backends) {
    await b.store.close();
    await b.db?.drop();
  }
});

/** Kysely instances that only compile (no database), to look at the SQL text of each dialect. */
const compilers = {
  sqlite: new Kysely<any>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};
const types = new Map<Resource, QueryType>([indexed, plain].map((r) => [r, queryTypeOf(r)]));

async function keys(b: Backend, r: Resource, criteria: unknown, sort?: unknown): Promise<string[]> {
  const qt = types.get(r)!;
  let q = b.store.db
    .selectFrom(qt.table.name)
    .select('data')
    .where('tenant_id', '=', 't1')
    .where(compileCriteria(qt, criteria, b.store.dialect));
  for (const o of compileSort(qt, checkSort(qt, sort), b.store.dialect)) q = q.orderBy(o);
  const rows = await asTenant('t1', () => q.execute());
  return rows.map((row) => (typeof row.data === 'string' ? JSON.parse(row.data) : row.data).key);
}
const c = (field: string, operator: string, value?: unknown) => ({ field, operator, ...(value !== undefined ? { value } : {}) });
const all = (...nodes: unknown[]) => ({ all: nodes });
const any = (...nodes: unknown[]) => ({ any: nodes });

/** [title, criteria, expected keys in id order] */
const CASES: [string, unknown, string[]][] = [
  ['equals is exact', all(c('name', 'equals', 'Alpha')), ['a']],
  ['equals is case-sensitive', all(c('name', 'equals', 'alpha')), []],
  ['not_equals includes records without the field', all(c('name', 'not_equals', 'Alpha')), except('a')],
  ['contains is case-insensitive', all(c('name', 'contains', 'ALP')), ['a']],
  ['contains', all(c('name', 'contains', 'a')), ['a', 'b', 'c', 'e']],
  ['contains % is literal', all(c('name', 'contains', '%')), ['d']],
  ['contains _ is literal', all(c('name', 'contains', '_')), ['c', 'd']],
  ['contains a backslash is literal', all(c('name', 'contains', '\\')), ['e']],
  ['contains a quote', all(c('name', 'contains', "'; drop")), ['c']],
  ['starts_with', all(c('name', 'starts_with', 'B')), ['b', 'e']],
  ['starts_with % is literal', all(c('name', 'starts_with', '%')), []],
  ['ends_with', all(c('name', 'ends_with', 'A')), ['a', 'b']],
  ['not_contains includes records without the field', all(c('name', 'not_contains', 'a')), ['d', 'f', 'g', 'h']],
  ['is_empty: missing or empty string', all(c('name', 'is_empty')), ['f', 'g']],
  ['is_not_empty', all(c('name', 'is_not_empty')), ['a', 'b', 'c', 'd', 'e', 'h']],
  ['string greater_than (code point order)', all(c('name', 'greater_than', 'a')), ['b', 'e', 'h']],
  ['string between', all(c('name', 'between', ['A', 'Z'])), ['a', 'c']],
  ['in on an enum', all(c('status', 'in', ['active', 'inactive'])), ['a', 'b', 'c', 'g']],
  ['not_in includes records without the field', all(c('status', 'not_in', ['active'])), ['b', 'd', 'e', 'f', 'g', 'h']],
  ['contains on an enum is free text', all(c('status', 'contains', 'act')), ['a', 'b', 'c', 'g']],
  ['number greater_than', all(c('amount', 'greater_than', 10)), ['b', 'g']],
  ['number greater_than_or_equal', all(c('amount', 'greater_than_or_equal', 10)), ['a', 'b', 'g', 'h']],
  ['number less_than', all(c('amount', 'less_than', 0)), ['c']],
  ['number less_than_or_equal', all(c('amount', 'less_than_or_equal', 0)), ['c', 'd']],
  ['number between (inclusive)', all(c('amount', 'between', [0, 10])), ['a', 'd', 'h']],
  ['number equals', all(c('amount', 'equals', 10)), ['a', 'h']],
  ['number in', all(c('amount', 'in', [0, 20.5])), ['b', 'd']],
  ['number not_equals', all(c('amount', 'not_equals', 10)), ['b', 'c', 'd', 'e', 'f', 'g']],
  ['number is_empty', all(c('amount', 'is_empty')), ['e', 'f']],
  ['integer equals', all(c('count', 'equals', 1)), ['a', 'h']],
  ['integer greater_than', all(c('count', 'greater_than', 3)), ['e', 'g']],
  ['boolean equals true', all(c('flag', 'equals', true)), ['a', 'd']],
  ['boolean equals false', all(c('flag', 'equals', false)), ['b', 'g']],
  ['boolean not_equals', all(c('flag', 'not_equals', true)), ['b', 'c', 'e', 'f', 'g', 'h']],
  ['boolean in', all(c('flag', 'in', [false])), ['b', 'g']],
  ['boolean is_empty', all(c('flag', 'is_empty')), ['c', 'e', 'f', 'h']],
  ['date between', all(c('day', 'between', ['2025-01-01', '2025-01-31'])), ['a', 'e']],
  ['date greater_than', all(c('day', 'greater_than', '2025-01-10')), ['b']],
  ['date equals', all(c('day', 'equals', '2025-01-10')), ['a', 'e']],
  ['date-time equals a bare date: that UTC day', all(c('at', 'equals', '2025-01-10')), ['a', 'd']],
  ['date-time greater_than a bare date: after that day', all(c('at', 'greater_than', '2025-01-10')), ['b', 'g']],
  [
    'date-time greater_than_or_equal a bare date: from its start',
    all(c('at', 'greater_than_or_equal', '2025-01-10')),
    ['a', 'b', 'd', 'g'],
  ],
  ['date-time less_than a bare date', all(c('at', 'less_than', '2025-01-01')), ['c']],
  ['date-time less_than_or_equal a bare date: to its end', all(c('at', 'less_than_or_equal', '2025-01-10')), ['a', 'c', 'd']],
  ['date-time compared as instants (offset stored)', all(c('at', 'equals', '2025-01-31T22:30:00Z')), ['b']],
  ['date-time compared as instants (offset given)', all(c('at', 'equals', '2025-02-01T00:30:00+02:00')), ['b']],
  [
    'date-time offsets in every form the schema accepts',
    any(
      c('at', 'equals', '2025-02-01T00:30:00+0200'),
      c('at', 'equals', '2025-01-10t12:00:00+02'),
      c('at', 'equals', '2025-01-10 10:00:00z'),
    ),
    ['a', 'b'],
  ],
  ['date-time between', all(c('at', 'between', ['2025-01-10T10:00:00Z', '2025-01-11'])), ['a', 'd', 'g']],
  ['date-time in, dates and instants mixed', all(c('at', 'in', ['2024-12-31', '2025-01-11T00:00:00Z'])), ['c', 'g']],
  ['date-time not_equals', all(c('at', 'not_equals', '2025-01-10')), ['b', 'c', 'e', 'f', 'g', 'h']],
  ['array contains an item', all(c('tags', 'contains', 'x')), ['a', 'd', 'g']],
  ['array contains is exact', all(c('tags', 'contains', 'X')), []],
  ['array not_contains', all(c('tags', 'not_contains', 'x')), ['b', 'c', 'e', 'f', 'h']],
  ['array is_empty: missing or []', all(c('tags', 'is_empty')), ['b', 'e', 'f', 'h']],
  ['array is_not_empty', all(c('tags', 'is_not_empty')), ['a', 'c', 'd', 'g']],
  ['array of numbers contains', all(c('scores', 'contains', 2)), ['a']],
  ['nested field equals', all(c('address.city', 'equals', 'Paris')), ['a']],
  ['nested field contains', all(c('address.city', 'contains', 'PARIS')), ['a', 'b']],
  ['nested field starts_with', all(c('address.zip', 'starts_with', '75')), ['a']],
  ['deeper nested number', all(c('address.geo.lat', 'less_than', 0)), ['g']],
  ['array of objects is_empty', all(c('lines', 'is_empty')), except('a')],
  ['array of objects is_not_empty', all(c('lines', 'is_not_empty')), ['a']],
  ['object is_empty', all(c('extra', 'is_empty')), except('a')],
  ['object is_not_empty', all(c('extra', 'is_not_empty')), ['a']],
  ['id is a field', all(c('id', 'is_not_empty')), ALL],
  ['sys_version is a field', all(c('sys_version', 'equals', 1)), ALL],
  ['sys_created_at is a field', all(c('sys_created_at', 'less_than', '2025-01-02')), ALL],
  ['all of: AND', all(c('status', 'equals', 'active'), c('flag', 'equals', true)), ['a']],
  ['any of: OR', any(c('status', 'equals', 'retired'), c('amount', 'less_than', 0)), ['c', 'd']],
  ['nested any inside all', all(c('status', 'equals', 'active'), any(c('amount', 'less_than', 0), c('tags', 'contains', 'x'))), ['a', 'c']],
  [
    'nested all inside any',
    any(all(c('status', 'equals', 'inactive'), c('flag', 'equals', false)), c('name', 'equals', 'Alpha')),
    ['a', 'b', 'g'],
  ],
  [
    'a group with all and any: (all) AND (any)',
    { all: [c('flag', 'is_not_empty')], any: [c('amount', 'equals', 0), c('amount', 'equals', 20.5)] },
    ['b', 'd'],
  ],
  ['no criteria', undefined, ALL],
  ['empty criteria', {}, ALL],
  ['empty all', all(), ALL],
  ['empty any', any(), ALL],
  ['a value that is SQL is only a value', all(c('name', 'equals', INJECTED)), ['c']],
  ['a value that is a tautology matches nothing', any(c('name', 'equals', "' or '1'='1"), c('name', 'contains', "') or 1=1 --")), []],
  ['a JSON path in a value is only a value', all(c('address.city', 'equals', '$.a") or 1=1')), []],
];

for (const [title, criteria, expected] of CASES) {
  test(`criteria: ${title}`, async () => {
    for (const b of backends) {
      for (const r of [indexed, plain]) assert.deepEqual(await keys(b, r, criteria), expected, `${b.name} ${r.def.table}`);
    }
  });
}

test('the cases run on every configured back end', () => {
  assert.deepEqual(
    backends.map((b) => b.name),
    PG_URL ? ['sqlite', 'postgres'] : ['sqlite'],
  );
});

test('the table an injected value names is still there', async () => {
  for (const b of backends) assert.equal((await keys(b, plain, undefined)).length, RECORDS.length);
});

describe('sort', () => {
  const SORTS: [unknown, string[]][] = [
    [undefined, ALL],
    [['-id'], [...ALL].reverse()],
    [['amount'], ['c', 'd', 'a', 'h', 'b', 'g', 'e', 'f']],
    [[{ field: 'amount', direction: 'desc' }], ['g', 'b', 'a', 'h', 'd', 'c', 'e', 'f']],
    [['name'], ['g', 'd', 'a', 'c', 'e', 'b', 'h', 'f']],
    [['-name'], ['h', 'b', 'e', 'c', 'a', 'd', 'g', 'f']],
    [['at'], ['c', 'a', 'd', 'g', 'b', 'e', 'f', 'h']],
    [
      ['status', '-count'],
      ['c', 'a', 'g', 'b', 'd', 'e', 'h', 'f'],
    ],
    [
      ['flag', 'address.city'],
      ['b', 'g', 'a', 'd', 'c', 'e', 'f', 'h'],
    ],
  ];
  for (const [sort, expected] of SORTS) {
    test(`sort_fields ${JSON.stringify(sort)}: missing values last, then id`, async () => {
      for (const b of backends) {
        for (const r of [indexed, plain]) assert.deepEqual(await keys(b, r, undefined, sort), expected, `${b.name} ${r.def.table}`);
      }
    });
  }
  test('id always ends the order', () => {
    const qt = types.get(plain)!;
    assert.deepEqual(checkSort(qt, ['-amount']), [
      { field: 'amount', direction: 'desc' },
      { field: 'id', direction: 'asc' },
    ]);
    assert.deepEqual(checkSort(qt, ['-id', 'name']), [
      { field: 'id', direction: 'desc' },
      { field: 'name', direction: 'asc' },
    ]);
  });
});

/** The 400 a compile throws: its field paths. */
function refused(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(isAppError(e), String(e));
    assert.equal((e as AppError).status, 400);
    return (e as AppError).errors!.map((x) => x.field);
  }
  assert.fail('expected a 400');
}

describe('refused criteria (400 naming the field)', () => {
  const qt = queryTypeOf(plain);
  const REFUSED: [string, unknown, string[]][] = [
    ['unknown field', all(c('nope', 'equals', 1)), ['criteria.all.0.field']],
    ['field below an array', all(c('lines.n', 'equals', '1')), ['criteria.all.0.field']],
    ['an object field is not a path prefix', all(c('address', 'equals', 'x')), ['criteria.all.0.field']],
    ['unknown operator', all(c('name', 'like', 'x')), ['criteria.all.0.operator']],
    ['operator that does not apply', all(c('amount', 'contains', '1')), ['criteria.all.0.operator']],
    ['contains on an array of objects', all(c('lines', 'contains', 'x')), ['criteria.all.0.operator']],
    ['string for a number', all(c('name', 'is_empty'), c('amount', 'equals', '10')), ['criteria.all.1.value']],
    ['fraction for an integer', all(c('count', 'equals', 1.5)), ['criteria.all.0.value']],
    ['string for a boolean', all(c('flag', 'equals', 'true')), ['criteria.all.0.value']],
    ['not an enum value', all(c('status', 'equals', 'bogus')), ['criteria.all.0.value']],
    ['not an enum value in a list', all(c('status', 'in', ['active', 'bogus'])), ['criteria.all.0.value.1']],
    ['impossible date', all(c('day', 'equals', '2025-02-30')), ['criteria.all.0.value']],
    ['date-time without a zone', all(c('at', 'equals', '2025-01-10T10:00:00')), ['criteria.all.0.value']],
    ['between needs two values', all(c('amount', 'between', [1])), ['criteria.all.0.value']],
    ['between from after to', all(c('amount', 'between', [5, 1])), ['criteria.all.0.value']],
    ['between with a bad bound', all(c('day', 'between', ['2025-01-01', 'soon'])), ['criteria.all.0.value.1']],
    ['in needs an array', all(c('amount', 'in', 1)), ['criteria.all.0.value']],
    ['in needs values', all(c('amount', 'in', [])), ['criteria.all.0.value']],
    [
      'in has at most 1000 values',
      all(
        c(
          'amount',
          'in',
          Array.from({ length: 1001 }, (_, i) => i),
        ),
      ),
      ['criteria.all.0.value'],
    ],
    ['is_empty takes no value', all(c('name', 'is_empty', 'x')), ['criteria.all.0.value']],
    ['a missing value', all(c('name', 'equals')), ['criteria.all.0.value']],
    ['array item of the wrong type', all(c('tags', 'contains', 5)), ['criteria.all.0.value']],
    ['a very long string', all(c('name', 'contains', 'x'.repeat(1001))), ['criteria.all.0.value']],
    ['unknown member of a condition', all({ ...c('name', 'equals', 'x'), sql: '1=1' }), ['criteria.all.0.sql']],
    ['unknown member of a group', { all: [], where: '1=1' }, ['criteria.where']],
    ['a node that is neither', all({ nope: 1 }), ['criteria.all.0']],
    ['all must be an array', { all: c('name', 'equals', 'x') }, ['criteria.all']],
    ['criteria must be an object', [c('name', 'equals', 'x')], ['criteria']],
    [
      'errors deep in the tree are named by their path',
      any(c('name', 'is_empty'), all(c('amount', 'equals', 'ten'))),
      ['criteria.any.1.all.0.value'],
    ],
    [
      'every error is named',
      all(c('nope', 'equals', 1), c('name', 'bogus', 1), c('amount', 'equals', 'x')),
      ['criteria.all.0.field', 'criteria.all.1.operator', 'criteria.all.2.value'],
    ],
    // injection attempts in names: never in the SQL, refused as unknown
    ['field name with quotes', all(c('name"; drop table q_plain; --', 'equals', 'x')), ['criteria.all.0.field']],
    ['field name closing a JSON path', all(c('$.a") or 1=1', 'equals', 'x')), ['criteria.all.0.field']],
    ['field name with SQL', all(c("name') or 1=1 --", 'equals', 'x')), ['criteria.all.0.field']],
    [
      'prototype names are not fields',
      all(c('__proto__', 'equals', 'x'), c('constructor', 'equals', 'x'), c('toString', 'is_empty')),
      ['criteria.all.0.field', 'criteria.all.1.field', 'criteria.all.2.field'],
    ],
    ['operator with SQL', all(c('name', "= 'x' or 1=1 --", 'x')), ['criteria.all.0.operator']],
    ['operator that is a prototype name', all(c('name', 'constructor', 'x')), ['criteria.all.0.operator']],
  ];
  for (const [title, criteria, expected] of REFUSED) {
    test(title, () =>
      assert.deepEqual(
        refused(() => compileCriteria(qt, criteria, 'sqlite')),
        expected,
      ),
    );
  }

  test(`nesting deeper than ${MAX_DEPTH} groups`, () => {
    const nest = (n: number): unknown => (n === 1 ? all(c('name', 'is_empty')) : all(nest(n - 1)));
    compileCriteria(qt, nest(MAX_DEPTH), 'sqlite');
    assert.equal(refused(() => compileCriteria(qt, nest(MAX_DEPTH + 1), 'sqlite')).length, 1);
  });

  test(`more than ${MAX_CONDITIONS} conditions`, () => {
    const many = (n: number) => any(...Array.from({ length: n }, (_, i) => c('amount', 'equals', i)));
    compileCriteria(qt, many(MAX_CONDITIONS), 'sqlite');
    assert.deepEqual(
      refused(() => compileCriteria(qt, many(MAX_CONDITIONS + 1), 'sqlite')),
      [`criteria.any.${MAX_CONDITIONS}`],
    );
  });

  test('sort fields', () => {
    assert.deepEqual(
      refused(() => checkSort(qt, ['name; drop table q_plain'])),
      ['sort_fields.0'],
    );
    assert.deepEqual(
      refused(() => checkSort(qt, [{ field: 'name', direction: 'asc; drop table q_plain' }])),
      ['sort_fields.0.direction'],
    );
    assert.deepEqual(
      refused(() => checkSort(qt, ['tags', 'extra'])),
      ['sort_fields.0', 'sort_fields.1'],
    );
    assert.deepEqual(
      refused(() => checkSort(qt, ['name', '-name'])),
      ['sort_fields.1'],
    );
    assert.deepEqual(
      refused(() => checkSort(qt, 'name')),
      ['sort_fields'],
    );
  });

  test('output fields', () => {
    assert.deepEqual(
      checkOutputFields(qt, ['name', 'address.city', 'tags']).map((f) => f.name),
      ['name', 'address.city', 'tags'],
    );
    assert.deepEqual(
      refused(() => checkOutputFields(qt, ['name', 'nope', 'name'])),
      ['output_fields.1', 'output_fields.2'],
    );
    assert.deepEqual(
      refused(() => checkOutputFields(qt, [])),
      ['output_fields'],
    );
    assert.deepEqual(
      checkOutputFields(qt, undefined).map((f) => f.name),
      qt.definition.default_output_fields,
    );
  });
});

test('no value and no path is ever part of the SQL text: all are bound parameters', () => {
  const markers = ['m4rk3r-str', 'm4rk3r-contains', 'm4rk3r-in', 'm4rk3r-enum', "m4rk3r'quote", 'm4rk3r%like_'];
  const criteria = any(
    all(
      c('name', 'equals', markers[0]),
      c('name', 'contains', markers[1]),
      c('name', 'starts_with', markers[4]),
      c('name', 'ends_with', markers[5]),
    ),
    c('name', 'in', [markers[2]]),
    c('tags', 'contains', markers[3]),
    c('address.city', 'between', ['m4rk3r-from', 'm4rk3r-to']),
    c('amount', 'greater_than', 424242),
    c('address.geo.lat', 'not_in', [171717]),
    c('flag', 'equals', true),
    c('at', 'less_than', '2031-03-03T03:03:03Z'),
  );
  for (const dialect of ['sqlite', 'postgres'] as const) {
    for (const r of [indexed, plain]) {
      const qt = types.get(r)!;
      const compiled = compilers[dialect]
        .selectFrom(qt.table.name)
        .select('id')
        .where(compileCriteria(qt, criteria, dialect))
        .compile();
      for (const m of [...markers, 'm4rk3r-from', 'm4rk3r-to', '424242', '171717', '2031', 'geo', 'tags']) {
        assert.ok(!compiled.sql.includes(m), `${dialect} ${r.def.table}: ${m} appears in ${compiled.sql}`);
      }
      const params = JSON.stringify(compiled.parameters);
      for (const m of ['m4rk3r-str', 'm4rk3r-in', '424242', '171717']) assert.ok(params.includes(m), `${m} is a parameter`);
    }
  }
});

test('a field is read from its extracted column when the table has one, else from the JSON', () => {
  const sqlOf = (r: Resource, dialect: 'sqlite' | 'postgres') => {
    const qt = types.get(r)!;
    return compilers[dialect]
      .selectFrom(qt.table.name)
      .select('id')
      .where(compileCriteria(qt, all(c('address.city', 'equals', 'Paris')), dialect))
      .compile();
  };
  assert.match(sqlOf(indexed, 'sqlite').sql, /"q_indexed"\."f_address__city" = \?/);
  assert.match(sqlOf(plain, 'sqlite').sql, /json_extract\("q_plain"\."data", \?\) = \?/);
  assert.deepEqual(sqlOf(plain, 'sqlite').parameters, ['$."address"."city"', 'Paris']);
  assert.match(sqlOf(plain, 'postgres').sql, /\("q_plain"\."data" #>> ARRAY\[\$1, \$2\]::text\[\]\) = \$3/);
});

describe('query definitions', () => {
  test('a resource becomes a definition: dotted paths, types, arrays, sys fields, columns', () => {
    const qt = types.get(indexed)!;
    const byName = new Map(qt.definition.fields.map((f) => [f.name, f]));
    assert.deepEqual(
      [
        'id',
        'name',
        'status',
        'amount',
        'count',
        'flag',
        'day',
        'at',
        'tags',
        'scores',
        'address.city',
        'address.geo.lat',
        'lines',
        'extra',
        'sys_created_at',
        'sys_version',
        'sys_last_security_context',
      ].map((n) => byName.get(n)?.type),
      [
        'string',
        'string',
        'string',
        'number',
        'integer',
        'boolean',
        'date',
        'date-time',
        'array',
        'array',
        'string',
        'number',
        'array',
        'object',
        'date-time',
        'integer',
        'object',
      ],
    );
    assert.deepEqual(byName.get('status')!.enum, ['active', 'inactive', 'retired']);
    assert.equal(byName.get('tags')!.item_type, 'string');
    assert.equal(byName.get('lines')!.item_type, 'object');
    assert.equal(byName.get('address'), undefined, 'an object with properties is its leaves');
    assert.equal(byName.get('lines.n'), undefined, 'nothing below an array');
    assert.equal(byName.get('address.geo.lat')!.label, 'Address / Geo / Lat');
    assert.equal(byName.get('tags')!.sortable, false);
    assert.equal(qt.fields.get('address.city')!.column?.name, 'f_address__city');
    assert.equal(types.get(plain)!.fields.get('address.city')!.column, undefined);
    assert.equal(qt.definition.primary_table, 'q_indexed');
    assert.deepEqual(qt.definition.default_sort_fields, ['id']);
    assert.deepEqual(qt.definition.services, ['qIndexed']);
    assert.equal(qt.definition.default_output_fields[0], 'id');
  });

  test('the registry: one definition per resource, ids and field names unique, defaults are fields', () => {
    const list = queryDefinitionList();
    assert.deepEqual(
      list.map((d) => d.id),
      RESOURCES.map((r) => r.def.slug),
    );
    for (const d of list) {
      const names = d.fields.map((f) => f.name);
      assert.equal(new Set(names).size, names.length, d.id);
      for (const f of [...d.default_output_fields, ...d.default_sort_fields]) assert.ok(names.includes(f), `${d.id}: ${f}`);
      assert.ok(names.includes('sys_created_at') && names.includes('sys_last_modified_at') && names.includes('sys_version'), d.id);
      assert.equal(d.primary_table, RESOURCES.find((r) => r.def.slug === d.id)!.table.name);
    }
  });
});

describe('rendering', () => {
  const rows = async function* (): AsyncGenerator<Record<string, unknown>[]> {
    yield [{ id: '1', name: 'A, "quoted"\nline', tags: ['x', 'y'], lines: [{ n: 1 }], flag: false, extra: { k: 'v' }, n: 0 }];
    yield [];
    yield [{ id: '2' }];
  };
  const fieldsOut = ['id', 'name', 'tags', 'lines', 'flag', 'extra', 'n', 'address.city'].map((n) => ({ name: n, path: n.split('.') }));
  const text = async (format: 'csv' | 'json', src = rows()) => {
    let out = '';
    for await (const chunk of render(src, fieldsOut, format)) out += chunk;
    return out;
  };

  test('csv: header row, quoting, arrays joined with ;, objects as JSON, empty cells', async () => {
    const parsed = parse(await text('csv'));
    assert.deepEqual(parsed, [
      ['id', 'name', 'tags', 'lines', 'flag', 'extra', 'n', 'address.city'],
      ['1', 'A, "quoted"\nline', 'x;y', '{"n":1}', 'false', '{"k":"v"}', '0', ''],
      ['2', '', '', '', '', '', '', ''],
    ]);
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(true), 'true');
  });

  test('json: Items keyed by output field names, missing values null, Count last', async () => {
    const body = JSON.parse(await text('json'));
    assert.deepEqual(body.Items[1], {
      id: '2',
      name: null,
      tags: null,
      lines: null,
      flag: null,
      extra: null,
      n: null,
      'address.city': null,
    });
    assert.deepEqual(body.Items[0].tags, ['x', 'y']);
    assert.equal(body.Count, 2);
  });

  test('empty results are still well-formed', async () => {
    const none = async function* (): AsyncGenerator<Record<string, unknown>[]> {};
    assert.deepEqual(JSON.parse(await text('json', none())), { Items: [], Count: 0 });
    assert.deepEqual(parse(await text('csv', none())), [fieldsOut.map((f) => f.name)]);
  });

  test('batches render as chunks, commas right across them', async () => {
    const many = async function* () {
      for (let b = 0; b < 13; b++) yield Array.from({ length: b === 12 ? 34 : 100 }, (_, i) => ({ id: String(b * 100 + i) }));
    };
    const chunks: string[] = [];
    for await (const ch of render(many(), [{ name: 'id', path: ['id'] }], 'json')) chunks.push(ch);
    assert.ok(chunks.length > 2);
    assert.deepEqual(
      JSON.parse(chunks.join('')).Items.map((r: { id: string }) => Number(r.id)),
      Array.from({ length: 1234 }, (_, i) => i),
    );
  });
});
