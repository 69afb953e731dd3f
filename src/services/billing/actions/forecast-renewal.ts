import { AppError } from '../../../core/errors.js';
import { toMajor } from '../../../domain/money/money.js';
import { fieldsOf } from '../../../resources/kit/service.js';
import { renewalQuote } from '../amounts.js';
import { day } from '../types.js';
import type { ActionHandler } from './context.js';

/**
 * An active certification gets what renewing it costs (renewalQuote: the programme's renewal fee,
 * plus its late fee when the certification is in grace today) as forecasted_renewal_amount, a decimal
 * in major units as the catalog has it; the action records the same amount in minor units.
 */
export const forecastRenewal: ActionHandler = {
  singleCertification: true,
  async perform(x) {
    const { action: a } = x;
    const cert = await x.lockedCertification(a.certification_id);
    if (cert?.status !== 'active') return { status: 'no longer eligible' };
    if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    const quote = await renewalQuote(x.records, x.db, x.ctx, x.lookups, cert, x.today);
    if ('error' in quote) throw new AppError('conflict', quote.error);
    const forecasted_renewal_amount = toMajor(quote.amount, quote.currency_code);
    await x.records.deps.resource('certifications').updateRead(x.ctx, cert, { ...fieldsOf(cert), forecasted_renewal_amount }, x.db);
    return { status: 'completed', changes: { ...quote } };
  },
};
