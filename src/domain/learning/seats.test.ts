import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capacityOf, holdsSeat, saleWindowError, seatError, seatsLeft } from './seats.js';

const offering = (o: Record<string, unknown> = {}) => ({
  id: 'o1',
  name: 'Spring class',
  enable_capacity: true,
  capacity_options: { capacity: 2 },
  ...o,
});

test('a registration holds a seat unless cancelled by status or by date', () => {
  assert.equal(holdsSeat({}), true);
  assert.equal(holdsSeat({ status: 'registered' }), true);
  assert.equal(holdsSeat({ status: 'completed' }), true);
  assert.equal(holdsSeat({ status: 'no show' }), true);
  assert.equal(holdsSeat({ status: 'cancelled' }), false);
  assert.equal(holdsSeat({ status: 'registered', cancellation_date: '2026-01-01T00:00:00Z' }), false);
});

test('capacity applies only when enabled with a number', () => {
  assert.equal(capacityOf(offering()), 2);
  assert.equal(capacityOf(offering({ enable_capacity: false })), undefined);
  assert.equal(capacityOf(offering({ capacity_options: {} })), undefined);
  assert.equal(capacityOf(offering({ capacity_options: { capacity: 2.7 } })), 2);
  assert.equal(capacityOf(offering({ capacity_options: { capacity: -1 } })), 0);
});

test('seat counting: the seat past capacity is refused, with the offering named', () => {
  assert.equal(seatError(offering(), 0), null);
  assert.equal(seatError(offering(), 1), null);
  assert.match(seatError(offering(), 2, 'course offering')!, /course offering "Spring class" \(o1\) is full: all 2 seats are taken/);
  assert.match(seatError(offering(), 5)!, /is full/);
  assert.equal(seatError(offering({ enable_capacity: false }), 1000), null);
  assert.match(seatError(offering({ capacity_options: { capacity: 0 } }), 0)!, /all 0 seats/);
  assert.equal(seatsLeft(offering(), 1), 1);
  assert.equal(seatsLeft(offering(), 3), 0);
  assert.equal(seatsLeft(offering({ enable_capacity: false }), 3), undefined);
});

test('sale window: before sell_from and after sell_until are refused with the reason', () => {
  const o = offering({ sell_from: '2026-02-01T00:00:00Z', sell_until: '2026-02-28T23:59:59Z' });
  assert.match(saleWindowError(o, '2026-01-31T23:59:59.000Z')!, /opens at 2026-02-01T00:00:00Z \(sell_from\)/);
  assert.equal(saleWindowError(o, '2026-02-01T00:00:00.000Z'), null);
  assert.equal(saleWindowError(o, '2026-02-28T23:59:59.000Z'), null);
  assert.match(saleWindowError(o, '2026-03-01T00:00:00.000Z')!, /closed at 2026-02-28T23:59:59Z \(sell_until\)/);
  assert.equal(saleWindowError(offering(), '1999-01-01T00:00:00Z'), null, 'no window: always open');
  const zoned = offering({ sell_until: '2026-02-28T23:59:59+02:00' });
  assert.equal(saleWindowError(zoned, '2026-02-28T21:59:00Z'), null, 'zones compared as instants');
  assert.match(saleWindowError(zoned, '2026-02-28T22:00:00Z')!, /closed/);
});
