import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countsToward, offeringMatchProblem, offeringProgramProblems, providerPrograms, registrationProvider } from './providers.js';

const links = providerPrograms([
  { training_provider_id: 'tp1', program_id: 'rn' },
  { training_provider_id: 'tp1', program_id: 'lpn' },
  { training_provider_id: 'tp2', program_id: 'rn' },
  { training_provider_id: 'tp3' },
]);

test('links group programmes by provider; incomplete links are ignored', () => {
  assert.deepEqual([...links.get('tp1')!].sort(), ['lpn', 'rn']);
  assert.deepEqual([...links.get('tp2')!], ['rn']);
  assert.equal(links.has('tp3'), false);
});

test('an offering of a provider names only its programmes', () => {
  assert.deepEqual(offeringProgramProblems({ training_provider_id: 'tp1', program_ids: ['rn', 'lpn'] }, links), []);
  assert.deepEqual(offeringProgramProblems({ training_provider_id: 'tp2', program_ids: ['rn', 'lpn'] }, links), [
    { field: 'program_ids.1', reason: 'training provider tp2 is not linked to programme lpn (no trainingProvPrograms record)' },
  ]);
  assert.equal(
    offeringProgramProblems({ training_provider_id: 'tp9', program_ids: ['rn'] }, links).length,
    1,
    'an unlinked provider has no programme',
  );
  assert.deepEqual(offeringProgramProblems({ program_ids: ['anything'] }, links), [], "the body's own offerings are unrestricted");
});

test("a registration belongs to its own provider, else its offering's; a different one is a problem", () => {
  assert.deepEqual(registrationProvider({}, { training_provider_id: 'tp1' }), { provider: 'tp1' });
  assert.deepEqual(registrationProvider({ training_provider_id: 'tp1' }, {}), { provider: 'tp1' });
  assert.deepEqual(registrationProvider({}, undefined), { provider: undefined });
  assert.equal(
    registrationProvider({ training_provider_id: 'tp2' }, { training_provider_id: 'tp1' }).problem?.field,
    'training_provider_id',
  );
});

test('work counts toward a programme only through a linked provider', () => {
  assert.equal(countsToward(undefined, 'rn', links), true);
  assert.equal(countsToward('tp2', 'rn', links), true);
  assert.equal(countsToward('tp2', 'lpn', links), false);
  assert.equal(countsToward('tp9', 'rn', links), false);
  assert.equal(countsToward('tp2', undefined, links), true);
});

test('a registration is for what its offering offers', () => {
  assert.equal(offeringMatchProblem('course_id', 'c1', 'c1', 'course offering'), null);
  assert.equal(offeringMatchProblem('course_id', 'c1', undefined, 'course offering'), null);
  assert.deepEqual(offeringMatchProblem('exam_id', 'e2', 'e1', 'exam offering'), {
    field: 'exam_id',
    reason: 'is e2 but the exam offering is for e1',
  });
});
