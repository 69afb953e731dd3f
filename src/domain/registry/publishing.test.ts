import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  entryOf,
  listingScope,
  listsNothing,
  parseCriteria,
  publishedFields,
  searchableFields,
  unpublishableFields,
  type DirectoryLike,
} from './publishing.js';

const dir = (over: Partial<DirectoryLike> = {}): DirectoryLike => ({
  is_public: true,
  searchable_fields: [{ name: 'last_name' }, { name: 'city' }, { name: 'number' }],
  additional_fields: ['first_name', 'expiration_date'],
  ...over,
});

// ---- which fields ------------------------------------------------------------------------------------

test('published fields: searchable then additional, in order, without duplicates', () => {
  const d = dir({ additional_fields: ['first_name', 'city', 'expiration_date'] });
  assert.deepEqual(searchableFields(d), ['last_name', 'city', 'number']);
  assert.deepEqual(publishedFields(d), ['last_name', 'city', 'number', 'first_name', 'expiration_date']);
});

test('internal ids and unknown names are never published, whatever the directory names', () => {
  const d = dir({
    searchable_fields: [{ name: 'last_name' }, { name: 'contact_id' }, { name: 'id' }, { name: '__proto__' }, {}],
    additional_fields: [
      'customer_id',
      'organization_id',
      'status_reason_id',
      'forecasted_renewal_amount',
      'sys_created_by_id',
      'constructor',
    ],
  });
  assert.deepEqual(publishedFields(d), ['last_name']);
  assert.deepEqual(unpublishableFields(d), [
    'contact_id',
    'id',
    '__proto__',
    'customer_id',
    'organization_id',
    'status_reason_id',
    'forecasted_renewal_amount',
    'sys_created_by_id',
    'constructor',
  ]);
});

test('e-mail addresses are published only when listed', () => {
  assert.ok(!publishedFields(dir()).includes('email_address'));
  assert.ok(publishedFields(dir({ additional_fields: ['email_address'] })).includes('email_address'));
  assert.ok(publishedFields(dir({ searchable_fields: [{ name: 'email_address' }] })).includes('email_address'));
});

// ---- query -> criteria -------------------------------------------------------------------------------

test('criteria: strings contain, numbers are whole numbers, paging parameters are not criteria', () => {
  const { criteria, errors } = parseCriteria({ last_name: ' Smi ', number: '1042', limit: '5', exclusiveStartKey: 'abc' }, dir());
  assert.deepEqual(errors, []);
  assert.deepEqual(criteria, [
    { field: 'last_name', kind: 'contains', value: 'Smi' },
    { field: 'number', kind: 'number', value: 1042 },
  ]);
});

test('criteria: a parameter that is not a searchable field is a 400 naming the criteria', () => {
  const { errors } = parseCriteria({ email_address: 'a@b' }, dir({ additional_fields: ['email_address'] }));
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.field, 'email_address');
  assert.match(errors[0]!.reason, /criteria: last_name, city, number/);
  assert.equal(parseCriteria({ first_name: 'x' }, dir()).errors[0]!.field, 'first_name', 'additional fields are shown, not searched');
});

test('criteria: bad values', () => {
  assert.equal(parseCriteria({ number: '12a' }, dir()).errors[0]!.reason, 'must be a whole number');
  assert.equal(parseCriteria({ city: ['a', 'b'] }, dir()).errors[0]!.reason, 'must be given once, as text');
  assert.match(parseCriteria({ city: 'x'.repeat(201) }, dir()).errors[0]!.reason, /at most 200/);
});

test('criteria: search mode (the default) needs one; list mode lists everything', () => {
  assert.equal(parseCriteria({}, dir()).errors[0]!.field, '(query)');
  assert.equal(
    parseCriteria({ city: '  ' }, dir({ display_mode: 'search' })).errors[0]!.field,
    '(query)',
    'an empty value is no criterion',
  );
  assert.deepEqual(parseCriteria({ limit: '10' }, dir({ display_mode: 'list' })), { criteria: [], errors: [] });
});

// ---- which certifications ----------------------------------------------------------------------------

test('listing scope: active certifications of every programme by default', () => {
  assert.deepEqual(listingScope(dir()), { statuses: ['active'] });
});

test('listing scope: the directory names programmes and statuses (unknown statuses dropped)', () => {
  // 'bogus': a value the schema refuses, as a record stored before a schema change may hold
  const statuses = ['active', 'inactive', 'bogus'] as DirectoryLike['certification_statuses'];
  assert.deepEqual(listingScope(dir({ program_ids: ['p1', 'p2', 'p1'], certification_statuses: statuses })), {
    statuses: ['active', 'inactive'],
    programIds: ['p1', 'p2'],
  });
});

test('listing scope: eligibility criteria about certifications narrow it, when enabled', () => {
  const eligibility = {
    certificants: true,
    certification_options: { program_ids: ['p2', 'p3'] },
    enable_status_restriction: true,
    status_restrictions: ['inactive', 'retired'],
    members: true,
  };
  const base = dir({ program_ids: ['p1', 'p2'], certification_statuses: ['active', 'inactive'], eligibility_criteria: eligibility });
  assert.deepEqual(listingScope(base), { statuses: ['active', 'inactive'], programIds: ['p1', 'p2'] }, 'off: ignored');
  assert.deepEqual(listingScope({ ...base, enable_eligibility_criteria: true }), { statuses: ['inactive'], programIds: ['p2'] });
  const noDirPrograms = dir({
    enable_eligibility_criteria: true,
    eligibility_criteria: { certificants: true, certification_options: { program_ids: ['p3'] } },
  });
  assert.deepEqual(listingScope(noDirPrograms), { statuses: ['active'], programIds: ['p3'] });
  const disjoint = listingScope(
    dir({
      program_ids: ['p1'],
      enable_eligibility_criteria: true,
      eligibility_criteria: { certificants: true, certification_options: { program_ids: ['p9'] } },
    }),
  );
  assert.ok(listsNothing(disjoint));
  assert.ok(
    listsNothing(
      listingScope(
        dir({
          enable_eligibility_criteria: true,
          eligibility_criteria: { enable_status_restriction: true, status_restrictions: ['gold member'] },
        }),
      ),
    ),
  );
  assert.ok(!listsNothing(listingScope(dir())));
});

// ---- an entry ----------------------------------------------------------------------------------------

test('entry: number and programme, then only the published fields the record has', () => {
  const cert = {
    id: 'c1',
    number: 1042,
    program_id: 'p1',
    name: 'Ada Smith',
    last_name: 'Smith',
    city: 'Boston',
    email_address: 'ada@example.org',
    contact_id: 'contact-1',
    status: 'active',
    sys_created_by_id: 'admin',
  };
  assert.deepEqual(entryOf(cert, ['last_name', 'city', 'number', 'first_name', 'program_id'], 'Registered Nurse'), {
    program: { id: 'p1', name: 'Registered Nurse' },
    number: 1042,
    last_name: 'Smith',
    city: 'Boston',
  });
  assert.deepEqual(entryOf(cert, ['email_address'], undefined), { program: { id: 'p1' }, number: 1042, email_address: 'ada@example.org' });
});
