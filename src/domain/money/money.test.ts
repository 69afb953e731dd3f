import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currencyDigits, exactRatio, formatMoney, formatMoneyIfValid, isCurrencyCode, majorText, toMajor, toMinor } from './money.js';

test('currency codes: three capitals that Intl knows', () => {
  assert.equal(isCurrencyCode('USD'), true);
  assert.equal(isCurrencyCode('EUR'), true);
  assert.equal(isCurrencyCode('usd'), false);
  assert.equal(isCurrencyCode('XYZ'), false, 'well formed but no currency');
  assert.equal(isCurrencyCode('US'), false);
  assert.equal(isCurrencyCode(840), false);
});

test('minor-unit digits from ISO 4217', () => {
  assert.equal(currencyDigits('USD'), 2);
  assert.equal(currencyDigits('JPY'), 0);
  assert.equal(currencyDigits('BHD'), 3);
  assert.throws(() => currencyDigits('XYZ'), RangeError);
});

test('major to minor units, exactly', () => {
  assert.equal(toMinor(120.5, 'USD'), 12050);
  assert.equal(toMinor(120, 'USD'), 12000);
  assert.equal(toMinor(0, 'USD'), 0);
  assert.equal(toMinor(0.1, 'USD'), 10);
  assert.equal(toMinor(0.29, 'USD'), 29, '0.29 * 100 is 28.999999999999996 in floats');
  assert.equal(toMinor(1.005, 'BHD'), 1005);
  assert.equal(toMinor(4.35, 'USD'), 435, '4.35 * 100 is 434.99999999999994 in floats');
  assert.equal(toMinor(1500, 'JPY'), 1500);
  assert.equal(toMinor(-4.35, 'USD'), -435);
  assert.equal(toMinor(9007199254740.99, 'USD'), 900719925474099, 'the largest safe amount in cents');
});

test('more decimals than the currency has, or not finite: RangeError', () => {
  assert.throws(() => toMinor(10.005, 'USD'), /more decimals than USD allows \(2\)/);
  assert.throws(() => toMinor(1.5, 'JPY'), /more decimals than JPY allows \(0\)/);
  assert.throws(() => toMinor(1.0005, 'BHD'), RangeError);
  assert.throws(() => toMinor(1e-7, 'USD'), RangeError);
  assert.throws(() => toMinor(Number.NaN, 'USD'), RangeError);
  assert.throws(() => toMinor(Number.POSITIVE_INFINITY, 'USD'), RangeError);
  assert.throws(() => toMinor(1e300, 'USD'), /too large/);
});

test('minor to major units', () => {
  assert.equal(toMajor(12050, 'USD'), 120.5);
  assert.equal(toMajor(29, 'USD'), 0.29);
  assert.equal(toMajor(1500, 'JPY'), 1500);
  assert.equal(toMajor(1005, 'BHD'), 1.005);
  assert.equal(toMajor(-435, 'USD'), -4.35);
  assert.throws(() => toMajor(1.5, 'USD'), RangeError);
});

test('formatted amounts', () => {
  assert.equal(formatMoney(1200000, 'USD'), '12,000.00 USD');
  assert.equal(formatMoney(5, 'USD'), '0.05 USD');
  assert.equal(formatMoney(-12050, 'USD'), '-120.50 USD');
  assert.equal(formatMoney(1234567, 'JPY'), '1,234,567 JPY');
  assert.equal(formatMoney(1005, 'BHD'), '1.005 BHD');
  assert.equal(formatMoney(0, 'EUR'), '0.00 EUR');
  assert.throws(() => formatMoney(1, 'ZZZ'), RangeError);
  assert.equal(formatMoneyIfValid(1, 'ZZZ'), undefined);
  assert.equal(formatMoneyIfValid(2 ** 53, 'USD'), undefined);
  assert.equal(formatMoneyIfValid(150, 'USD'), '1.50 USD');
});

test('exact ratios of decimal numbers', () => {
  assert.deepEqual(exactRatio(33.33), { numerator: 3333n, denominator: 100n });
  assert.deepEqual(exactRatio(50), { numerator: 50n, denominator: 1n });
  assert.deepEqual(exactRatio(0.1), { numerator: 1n, denominator: 10n });
  assert.deepEqual(exactRatio(1e21), { numerator: 10n ** 21n, denominator: 1n });
});

test("majorText: the amount with its currency's digits, no grouping", () => {
  assert.equal(majorText(1200000, 'USD'), '12000.00');
  assert.equal(majorText(-5, 'USD'), '-0.05');
  assert.equal(majorText(4000, 'JPY'), '4000');
  assert.equal(majorText(1500, 'BHD'), '1.500');
});
