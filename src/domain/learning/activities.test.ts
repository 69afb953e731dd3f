import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activityTransitionError, becomesVerified, canEditActivity, resolveRelativeDate, type RelativeDate } from './activities.js';

test('activity workflow: draft -> under review -> verified -> processed', () => {
  const at = (status?: string) => ({ status });
  assert.equal(activityTransitionError(at('draft'), 'under review'), null);
  assert.equal(activityTransitionError(at('under review'), 'draft'), null);
  assert.equal(activityTransitionError(at('under review'), 'verified'), null);
  assert.equal(activityTransitionError(at('verified'), 'processed'), null);
  assert.match(activityTransitionError(at('draft'), 'verified')!, /cannot go from draft to verified/);
  assert.match(activityTransitionError(at('processed'), 'verified')!, /processed; it can no longer/);
  assert.equal(becomesVerified({ status: 'under review' }, { status: 'verified' }), true);
  assert.equal(becomesVerified({ status: 'verified' }, { status: 'verified' }), false);
  assert.equal(becomesVerified({ status: 'verified' }, { status: 'processed' }), false);
});

test('relative dates: anchor, then number x unit before / after', () => {
  const r = (o: Partial<RelativeDate>): RelativeDate => ({
    number: 30,
    position: 'after',
    relative_to: 'the reference date',
    unit_of_time: 'days',
    ...o,
  });
  assert.equal(resolveRelativeDate(r({}), '2026-01-15'), '2026-02-14');
  assert.equal(resolveRelativeDate(r({ position: 'before', number: 1, unit_of_time: 'months' }), '2026-03-31'), '2026-02-28');
  assert.equal(resolveRelativeDate(r({ position: 'on', relative_to: 'the end of the month' }), '2026-02-10'), '2026-02-28');
  assert.equal(
    resolveRelativeDate(r({ number: 2, unit_of_time: 'weeks', relative_to: 'the end of the quarter' }), '2026-05-03'),
    '2026-07-14',
  );
  assert.equal(
    resolveRelativeDate(r({ number: 1, unit_of_time: 'years', relative_to: 'the beginning of the year' }), '2026-05-03'),
    '2027-01-01',
  );
  assert.equal(
    resolveRelativeDate(r({ position: 'on', relative_to: 'the beginning of the week' }), '2026-05-03'),
    '2026-04-27',
    'weeks start on Monday',
  );
});

test('can the person still edit it?', () => {
  const editable = {
    allow_editing_in_portal: true,
    activity_editing_options: {
      until: 'relative date' as const,
      relative_date: { number: 30, position: 'after' as const, relative_to: 'the reference date', unit_of_time: 'days' as const },
    },
  };
  assert.deepEqual(canEditActivity({ status: 'draft' }, undefined, '2026-01-01'), { can_edit: true, reason: 'the activity is a draft' });
  assert.equal(canEditActivity({}, undefined, '2026-01-01').can_edit, true, 'absent = draft');
  assert.match(canEditActivity({ status: 'verified' }, editable, '2026-01-01').reason, /verified; its credits are issued/);
  assert.equal(canEditActivity({ status: 'processed' }, editable, '2026-01-01').can_edit, false);
  assert.match(
    canEditActivity({ status: 'under review' }, { allow_editing_in_portal: false }, '2026-01-01').reason,
    /does not allow editing/,
  );
  assert.equal(
    canEditActivity(
      { status: 'under review' },
      { allow_editing_in_portal: true, activity_editing_options: { until: 'forever' } },
      '2099-01-01',
    ).can_edit,
    true,
  );
  assert.deepEqual(canEditActivity({ status: 'under review', date: '2026-01-15' }, editable, '2026-02-14'), {
    can_edit: true,
    reason: 'its type allows editing until 2026-02-14',
    editable_until: '2026-02-14',
  });
  assert.deepEqual(canEditActivity({ status: 'under review', date: '2026-01-15' }, editable, '2026-02-15'), {
    can_edit: false,
    reason: 'the editing window closed on 2026-02-14',
    editable_until: '2026-02-14',
  });
  assert.equal(
    canEditActivity({ status: 'under review', date: 'spring 2026', sys_created_at: '2026-03-01T10:00:00Z' }, editable, '2026-03-31')
      .editable_until,
    '2026-03-31',
    'free-text date: the creation date',
  );
  assert.match(canEditActivity({ status: 'under review', date: 'spring' }, editable, '2026-03-31').reason, /no date/);
});
