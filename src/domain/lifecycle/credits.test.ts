import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  creditTotalProblems,
  creditTypesUsed,
  planCredits,
  totalScope,
  withSubTypes,
  type CreditFacts,
  type CreditLike,
  type CreditRules,
  type CreditTotalLike,
  type CreditTypeLike,
} from './credits.js';

const facts = (o: Partial<CreditFacts> = {}): CreditFacts => ({ credits: [], window: {}, appliedToThis: {}, ...o });
/** A verified credit earned on 2024-01-01 unless overridden. */
const credit = (id: string, type_id: string, quantity: number, o: Partial<CreditLike> = {}): CreditLike => ({
  id,
  type_id,
  quantity,
  status: 'verified',
  date: '2024-01-01',
  ...o,
});

/** The board's rule: 24 hours, of which 2 medical errors, 2 laws and rules, 1 HIV/AIDS. */
const BOARD: CreditTotalLike = {
  name: 'Contact hours',
  credit_type_ids: ['GEN'],
  quantity: 24,
  minimums: [
    { credit_type_id: 'MED', quantity: 2 },
    { credit_type_id: 'LAW', quantity: 2 },
    { credit_type_id: 'HIV', quantity: 1 },
  ],
};
const board = (total: CreditTotalLike = BOARD): CreditRules => ({ credit_totals: [total] });
const sum = (r: Record<string, number>) => Object.values(r).reduce((s, x) => s + x, 0);

// ---- scopes -----------------------------------------------------------------------------------------

const TREE: CreditTypeLike[] = [
  { id: 'CE' },
  { id: 'CLIN', parent_credit_type_id: 'CE' },
  { id: 'MED', parent_credit_type_id: 'CLIN' },
  { id: 'ETH', parent_credit_type_id: 'CE' },
  { id: 'OTHER' },
];

test('withSubTypes: a type with its children and grandchildren, nothing else', () => {
  assert.deepEqual([...withSubTypes(['CE'], TREE)].sort(), ['CE', 'CLIN', 'ETH', 'MED']);
  assert.deepEqual([...withSubTypes(['CLIN'], TREE)].sort(), ['CLIN', 'MED']);
  assert.deepEqual([...withSubTypes(['MED'], TREE)], ['MED']);
  assert.deepEqual([...withSubTypes(['UNKNOWN'], TREE)], ['UNKNOWN']);
  assert.deepEqual([...withSubTypes(['CE'])], ['CE'], 'without the types, a type alone');
});
test('withSubTypes: a cycle of parents ends', () => {
  const loop: CreditTypeLike[] = [
    { id: 'A', parent_credit_type_id: 'B' },
    { id: 'B', parent_credit_type_id: 'A' },
  ];
  assert.deepEqual([...withSubTypes(['A'], loop)].sort(), ['A', 'B']);
});
test("totalScope and creditTypesUsed: the total's types, its minimums' types and their sub-types", () => {
  assert.deepEqual(
    [...totalScope({ credit_type_ids: ['ETH'], quantity: 1, minimums: [{ credit_type_id: 'CLIN', quantity: 1 }] }, TREE)].sort(),
    ['CLIN', 'ETH', 'MED'],
  );
  const used = creditTypesUsed(
    { credit_requirements: [{ credit_type_id: 'OTHER', quantity: 1 }], credit_totals: [{ credit_type_ids: ['CLIN'], quantity: 1 }] },
    TREE,
  );
  assert.deepEqual([...used].sort(), ['CLIN', 'MED', 'OTHER']);
});

// ---- the board's rule -------------------------------------------------------------------------------

test('planCredits: 18 general + 3 medical errors + 2 laws + 1 HIV meets 24 with its minimums, every hour used once', () => {
  const f = facts({ credits: [credit('g', 'GEN', 18), credit('m', 'MED', 3), credit('l', 'LAW', 2), credit('h', 'HIV', 1)] });
  const plan = planCredits(board(), f);
  assert.equal(plan.met, true);
  assert.deepEqual(plan.allocation, { g: 18, m: 3, l: 2, h: 1 });
  assert.equal(sum(plan.allocation), 24);
  assert.deepEqual(
    plan.lines.map((l) => [l.credit_id, l.requirement, l.quantity]),
    [
      ['m', '/credit_totals/0/minimums/0', 2],
      ['l', '/credit_totals/0/minimums/1', 2],
      ['h', '/credit_totals/0/minimums/2', 1],
      ['g', '/credit_totals/0', 18],
      ['m', '/credit_totals/0', 1],
    ],
  );
  const [t] = plan.totals;
  assert.deepEqual(
    { ...t, minimums: undefined },
    {
      kind: 'credit_total',
      index: 0,
      name: 'Contact hours',
      credit_type_ids: ['GEN'],
      required: 24,
      earned: 24,
      met: true,
      progress: 1,
      missing: 0,
      minimums: undefined,
    },
  );
  assert.deepEqual(
    t!.minimums.map((m) => [m.credit_type_id, m.required, m.earned, m.met, m.missing]),
    [
      ['MED', 2, 3, true, 0],
      ['LAW', 2, 2, true, 0],
      ['HIV', 1, 1, true, 0],
    ],
  );
});
test('planCredits: 22 general + 2 medical errors is 24 hours but misses laws and HIV: 3 hours missing', () => {
  const f = facts({ credits: [credit('g', 'GEN', 22), credit('m', 'MED', 2)] });
  const plan = planCredits(board(), f);
  assert.equal(plan.met, false);
  const [t] = plan.totals;
  assert.equal(t!.met, false);
  assert.equal(t!.earned, 24);
  assert.equal(t!.missing, 3);
  assert.equal(t!.progress, 0.875);
  assert.deepEqual(
    t!.minimums.map((m) => [m.credit_type_id, m.earned, m.met, m.missing, m.progress]),
    [
      ['MED', 2, true, 0, 1],
      ['LAW', 0, false, 2, 0],
      ['HIV', 0, false, 1, 0],
    ],
  );
});
test("planCredits: the minimums met but the total short: what is missing is the total's shortfall", () => {
  const plan = planCredits(
    board(),
    facts({ credits: [credit('g', 'GEN', 10), credit('m', 'MED', 2), credit('l', 'LAW', 2), credit('h', 'HIV', 1)] }),
  );
  assert.equal(plan.met, false);
  assert.equal(plan.totals[0]!.earned, 15);
  assert.equal(plan.totals[0]!.missing, 9);
  assert.ok(plan.totals[0]!.minimums.every((m) => m.met));
});
test('planCredits: topic hours beyond their minimum count toward the total; general hours never count for a minimum', () => {
  assert.equal(planCredits(board(), facts({ credits: [credit('m', 'MED', 21), credit('l', 'LAW', 2), credit('h', 'HIV', 1)] })).met, true);
  const plan = planCredits(board(), facts({ credits: [credit('g', 'GEN', 100), credit('l', 'LAW', 2), credit('h', 'HIV', 1)] }));
  assert.equal(plan.met, false);
  assert.equal(plan.totals[0]!.minimums[0]!.missing, 2);
});
test('planCredits: consumes only the total, oldest first; what is left stays available', () => {
  const f = facts({
    credits: [
      credit('g-new', 'GEN', 20, { date: '2024-06-01' }),
      credit('g-old', 'GEN', 10, { date: '2024-02-01' }),
      credit('m', 'MED', 2, { date: '2024-03-01' }),
      credit('l', 'LAW', 4, { date: '2024-01-15' }),
      credit('h', 'HIV', 1, { date: '2024-05-01' }),
    ],
  });
  const plan = planCredits(board(), f);
  assert.equal(plan.met, true);
  // minimums: m 2, l 2, h 1 (5); then 19 oldest first: l's 2 left (2024-01-15), g-old 10, g-new 7
  assert.deepEqual(plan.allocation, { m: 2, l: 4, h: 1, 'g-old': 10, 'g-new': 7 });
  assert.equal(sum(plan.allocation), 24);
});
test('planCredits: the same facts give the same allocation whatever the order of the credits', () => {
  const credits = [
    credit('b', 'GEN', 10),
    credit('a', 'GEN', 10),
    credit('m2', 'MED', 1),
    credit('m1', 'MED', 1),
    credit('l', 'LAW', 3),
    credit('h', 'HIV', 2),
    credit('c', 'GEN', 10),
  ];
  const first = planCredits(board(), facts({ credits }));
  for (let i = 0; i < 10; i++) {
    const shuffled = [...credits].sort(() => Math.random() - 0.5);
    assert.deepEqual(planCredits(board(), facts({ credits: shuffled })), first);
  }
  assert.deepEqual(first.allocation, { m1: 1, m2: 1, l: 2, h: 1, a: 10, b: 9 });
});

// ---- each credit once -------------------------------------------------------------------------------

test('planCredits: a credit is never allocated beyond what it has left, whatever the requirements', () => {
  const credits = [credit('g', 'GEN', 5, { quantity_used: 2 }), credit('m', 'MED', 3, { quantity_used: 1 }), credit('x', 'LAW', 4)];
  const rules: CreditRules = {
    credit_requirements: [
      { credit_type_id: 'MED', quantity: 1 },
      { credit_type_id: 'LAW', quantity: 1 },
    ],
    credit_totals: [
      { credit_type_ids: ['GEN', 'MED'], quantity: 4, minimums: [{ credit_type_id: 'MED', quantity: 1 }] },
      { credit_type_ids: ['GEN', 'LAW', 'MED'], quantity: 50 },
    ],
  };
  const plan = planCredits(rules, facts({ credits }));
  for (const c of credits) assert.ok((plan.allocation[c.id] ?? 0) <= c.quantity - (c.quantity_used ?? 0) + 1e-9, c.id);
  assert.equal(sum(plan.allocation), 3 + 2 + 4, 'everything available, once');
  assert.equal(plan.met, false);
});
test('planCredits: a per-type requirement takes its credits first; they do not count again in a total', () => {
  const rules: CreditRules = {
    credit_requirements: [{ credit_type_id: 'MED', quantity: 2 }],
    credit_totals: [{ credit_type_ids: ['GEN'], quantity: 5, minimums: [{ credit_type_id: 'MED', quantity: 1 }] }],
  };
  const short = planCredits(rules, facts({ credits: [credit('g', 'GEN', 4), credit('m', 'MED', 2)] }));
  assert.equal(short.met, false);
  assert.equal(short.totals[0]!.minimums[0]!.earned, 0);
  assert.equal(short.totals[0]!.earned, 4);
  assert.equal(short.totals[0]!.missing, 1);
  const ok = planCredits(rules, facts({ credits: [credit('g', 'GEN', 4), credit('m', 'MED', 3)] }));
  assert.equal(ok.met, true);
  assert.deepEqual(
    ok.lines.map((l) => [l.credit_id, l.requirement, l.quantity]),
    [
      ['m', '/credit_requirements/0', 2],
      ['m', '/credit_totals/0/minimums/0', 1],
      ['g', '/credit_totals/0', 4],
    ],
  );
});
test('planCredits: two totals share no credit hour; they are filled in order', () => {
  const rules: CreditRules = {
    credit_totals: [
      { credit_type_ids: ['GEN'], quantity: 6 },
      { credit_type_ids: ['GEN'], quantity: 6 },
    ],
  };
  assert.equal(planCredits(rules, facts({ credits: [credit('g', 'GEN', 10)] })).met, false);
  const plan = planCredits(rules, facts({ credits: [credit('g', 'GEN', 12)] }));
  assert.equal(plan.met, true);
  assert.deepEqual(plan.allocation, { g: 12 });
});
test('planCredits: credits this application already holds are offered again, not counted twice', () => {
  // m is fully used, 2 of it by this application; the other 1 belongs to someone else
  const f = facts({
    credits: [credit('g', 'GEN', 22), credit('m', 'MED', 3, { quantity_used: 3 }), credit('l', 'LAW', 2), credit('h', 'HIV', 1)],
    appliedToThis: { m: 2 },
  });
  const plan = planCredits(board(), f);
  assert.equal(plan.met, true);
  assert.deepEqual(plan.allocation, { m: 2, l: 2, h: 1, g: 19 });
  const none = planCredits(board(), { ...f, appliedToThis: {} });
  assert.equal(none.met, false);
  assert.equal(none.totals[0]!.minimums[0]!.missing, 2);
});
test('planCredits: credits that do not count (status, window, expiry) are not used', () => {
  const f = facts({
    window: { from: '2024-01-01', to: '2024-12-31' },
    credits: [
      credit('g', 'GEN', 19),
      credit('m-draft', 'MED', 2, { status: 'submitted' }),
      credit('l-early', 'LAW', 2, { date: '2023-12-31' }),
      credit('h-expired', 'HIV', 1, { expiration_date: '2024-06-01' }),
      credit('m', 'MED', 2),
      credit('l', 'LAW', 2),
      credit('h', 'HIV', 1),
    ],
  });
  const plan = planCredits(board(), f);
  assert.equal(plan.met, true);
  assert.deepEqual(Object.keys(plan.allocation).sort(), ['g', 'h', 'l', 'm']);
  assert.equal(planCredits(board(), { ...f, credits: f.credits.filter((c) => c.id !== 'h') }).met, false);
});
test('planCredits: fractional hours add up without noise (0.7 + 0.3 + 0.5 + 0.5)', () => {
  const total: CreditTotalLike = { credit_type_ids: ['GEN'], quantity: 2, minimums: [{ credit_type_id: 'MED', quantity: 1 }] };
  const plan = planCredits(
    board(total),
    facts({
      credits: [
        credit('m1', 'MED', 0.7),
        credit('m2', 'MED', 0.3, { date: '2024-01-02' }),
        credit('g1', 'GEN', 0.5),
        credit('g2', 'GEN', 0.5, { date: '2024-01-02' }),
      ],
    }),
  );
  assert.equal(plan.met, true);
  const short = planCredits(
    board(total),
    facts({ credits: [credit('m1', 'MED', 0.7), credit('m2', 'MED', 0.2), credit('g1', 'GEN', 1.1)] }),
  );
  assert.equal(short.met, false);
  assert.equal(short.totals[0]!.minimums[0]!.missing, 0.1);
  assert.equal(short.totals[0]!.missing, 0.1);
});

// ---- sub-types ---------------------------------------------------------------------------------------

test('planCredits: a total over a credit type counts its sub-types', () => {
  const total: CreditTotalLike = { credit_type_ids: ['CE'], quantity: 6, minimums: [{ credit_type_id: 'ETH', quantity: 1 }] };
  const credits = [credit('c', 'CE', 2), credit('k', 'CLIN', 2), credit('m', 'MED', 1), credit('e', 'ETH', 1), credit('o', 'OTHER', 50)];
  const plan = planCredits(board(total), facts({ credits, creditTypes: TREE }));
  assert.equal(plan.met, true);
  assert.equal(plan.allocation.o, undefined, 'a type outside the tree does not count');
  assert.equal(planCredits(board(total), facts({ credits })).met, false, 'without the tree, CLIN and MED are not CE');
});
test('planCredits: nested minimums are filled most specific first, so a broad minimum leaves the narrow one its credits', () => {
  // CLIN (with MED under it) at least 3, MED at least 2; listed broad first. The oldest credit is MED.
  const total: CreditTotalLike = {
    credit_type_ids: ['CE'],
    quantity: 5,
    minimums: [
      { credit_type_id: 'CLIN', quantity: 3 },
      { credit_type_id: 'MED', quantity: 2 },
    ],
  };
  const credits = [credit('m', 'MED', 2, { date: '2023-06-01' }), credit('k', 'CLIN', 3), credit('c', 'CE', 10)];
  const plan = planCredits(board(total), facts({ credits, creditTypes: TREE }));
  assert.equal(plan.met, true);
  assert.deepEqual(
    plan.lines.map((l) => [l.credit_id, l.requirement, l.quantity]),
    [
      ['m', '/credit_totals/0/minimums/1', 2],
      ['k', '/credit_totals/0/minimums/0', 3],
    ],
  );
  assert.deepEqual(
    plan.totals[0]!.minimums.map((m) => [m.credit_type_id, m.earned, m.met]),
    [
      ['CLIN', 3, true],
      ['MED', 2, true],
    ],
    "in the process's order",
  );
});

// ---- validation --------------------------------------------------------------------------------------

test('creditTotalProblems: minimums that add up to more than the total are refused, naming the field', () => {
  assert.deepEqual(creditTotalProblems([BOARD]), []);
  assert.deepEqual(creditTotalProblems(undefined), []);
  assert.deepEqual(
    creditTotalProblems([{ credit_type_ids: ['GEN'], quantity: 5, minimums: [{ credit_type_id: 'MED', quantity: 5 }] }]),
    [],
  );
  const p = creditTotalProblems([
    BOARD,
    {
      credit_type_ids: ['GEN'],
      quantity: 4,
      minimums: [
        { credit_type_id: 'MED', quantity: 3 },
        { credit_type_id: 'LAW', quantity: 2 },
      ],
    },
  ]);
  assert.equal(p.length, 1);
  assert.equal(p[0]!.field, 'credit_totals.1.minimums');
  assert.match(p[0]!.reason, /add up to 5, more than the total's quantity 4/);
});
