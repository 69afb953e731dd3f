/**
 * Money: integer amounts in a currency's minor units (cents for USD, none for JPY, mils for BHD).
 * The catalog's amounts are decimal numbers in major units; they are converted here, once, exactly
 * (decimal shifting on the number's text, never multiplication of floats).
 *
 * CONTRACT (implemented by the pricing helper).
 */

/** Three capital letters, a currency Intl knows. */
export declare function isCurrencyCode(code: unknown): code is string;

/** The currency's minor-unit digits (ISO 4217 via Intl): USD 2, JPY 0, BHD 3. */
export declare function currencyDigits(currency: string): number;

/** 120.5 USD → 12050. Throws RangeError for an amount with more decimals than the currency has, or not finite. */
export declare function toMinor(major: number, currency: string): number;

/** 12050 USD → 120.5 (the catalog's number fields: registrations' order_total …). */
export declare function toMajor(minor: number, currency: string): number;

/** 1200000 USD → "12,000.00 USD" (docs, previews, e-mails). */
export declare function formatMoney(minor: number, currency: string): string;
