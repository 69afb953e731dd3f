/**
 * Money: integer amounts in a currency's minor units (cents for USD, none for JPY, mils for BHD).
 * The catalog's amounts are decimal numbers in major units; they are converted here, once, exactly
 * (decimal shifting on the number's text, never multiplication of floats).
 */

// Intl's list of the ISO 4217 codes it knows (Intl would format any well-formed code, 'XYZ' included).
let known: Set<string> | undefined;

/** Three capital letters, a currency Intl knows. */
export function isCurrencyCode(code: unknown): code is string {
  if (typeof code !== 'string' || !/^[A-Z]{3}$/.test(code)) return false;
  known ??= new Set(Intl.supportedValuesOf('currency'));
  return known.has(code);
}

const digitsCache = new Map<string, number>();

/** The currency's minor-unit digits (ISO 4217 via Intl): USD 2, JPY 0, BHD 3. */
export function currencyDigits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    if (!isCurrencyCode(currency)) throw new RangeError(`${String(currency)} is not an ISO 4217 currency code`);
    d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, d);
  }
  return d;
}

/**
 * The decimal digits of a finite number, as JavaScript prints it (the shortest text that reads back as
 * the same double: 0.1 is "0.1", not 0.1000000000000000055…): sign, digits without the point, and the
 * power of ten of the last digit.
 */
function decimalOf(x: number): { negative: boolean; digits: string; exponent: number } {
  const [mantissa = '', exp = '0'] = Math.abs(x).toString().split('e');
  const [int = '', frac = ''] = mantissa.split('.');
  return { negative: x < 0, digits: (int + frac).replace(/^0+(?=\d)/, ''), exponent: Number(exp) - frac.length };
}

/** A finite number as an exact fraction of integers (33.33 → 3333 / 100): percentages, without float arithmetic. */
export function exactRatio(x: number): { numerator: bigint; denominator: bigint } {
  if (!Number.isFinite(x)) throw new RangeError(`${String(x)} is not a finite number`);
  const { negative, digits, exponent } = decimalOf(x);
  const units = BigInt(digits) * (negative ? -1n : 1n);
  return exponent >= 0
    ? { numerator: units * 10n ** BigInt(exponent), denominator: 1n }
    : { numerator: units, denominator: 10n ** BigInt(-exponent) };
}

/** 120.5 USD → 12050. Throws RangeError for an amount with more decimals than the currency has, or not finite. */
export function toMinor(major: number, currency: string): number {
  if (typeof major !== 'number' || !Number.isFinite(major)) throw new RangeError(`${String(major)} is not a finite amount`);
  const d = currencyDigits(currency);
  const { negative, digits, exponent } = decimalOf(major);
  const shift = exponent + d; // the power of ten of the last digit, in minor units
  let text: string;
  if (shift >= 0) text = digits + '0'.repeat(shift);
  else {
    const dropped = digits.slice(shift);
    if (/[1-9]/.test(dropped)) throw new RangeError(`${major} has more decimals than ${currency} allows (${d})`);
    text = digits.slice(0, shift) || '0';
  }
  const minor = Number(text);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${major} ${currency} is too large an amount`);
  return negative && minor !== 0 ? -minor : minor;
}

/** 12050 USD → 120.5 (the catalog's number fields: registrations' order_total …). */
export function toMajor(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${String(minor)} is not an integer amount in minor units`);
  // the double nearest to the decimal text: what the catalog's number would be written as
  return Number(`${minor}e-${currencyDigits(currency)}`);
}

/** The integer part and the fraction of an amount, as text with the currency's digits (no float). */
function parts(minor: number, currency: string): { sign: string; units: string; fraction: string } {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${String(minor)} is not an integer amount in minor units`);
  const d = currencyDigits(currency);
  const text = String(Math.abs(minor)).padStart(d + 1, '0');
  return { sign: minor < 0 ? '-' : '', units: text.slice(0, text.length - d), fraction: d ? `.${text.slice(text.length - d)}` : '' };
}

/** 1200000 USD → "12,000.00 USD" (docs, previews, e-mails). */
export function formatMoney(minor: number, currency: string): string {
  const p = parts(minor, currency);
  // the integer part grouped by Intl (as a BigInt: no float), the fraction as written
  return `${p.sign}${new Intl.NumberFormat('en').format(BigInt(p.units))}${p.fraction} ${currency}`;
}

/** 4000 USD → "40.00", 4000 JPY → "4000", 1500 BHD → "1.500": the amount with its currency's digits (invoice lines). */
export function majorText(minor: number, currency: string): string {
  const p = parts(minor, currency);
  return `${p.sign}${p.units}${p.fraction}`;
}

/** formatMoney, or undefined for an amount or currency it cannot write (totals of records a client wrote: currency "ZZZ", an unsafe sum). */
export function formatMoneyIfValid(minor: number, currency: string): string | undefined {
  return Number.isSafeInteger(minor) && isCurrencyCode(currency) ? formatMoney(minor, currency) : undefined;
}
