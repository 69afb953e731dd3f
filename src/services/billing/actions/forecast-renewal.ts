import { AppError } from '../../../core/errors.js';
import { fieldsOf } from '../../../resources/kit/service.js';
import { renewalFee } from '../lookups.js';
import { day } from '../types.js';
import type { ActionHandler } from './context.js';

/** An active certification gets its programme's renewal fee as forecasted_renewal_amount. */
export const forecastRenewal: ActionHandler = {
  singleCertification: true,
  async perform(x) {
    const { action: a } = x;
    const cert = await x.lockedCertification(a.certification_id);
    if (cert?.status !== 'active') return { status: 'no longer eligible' };
    if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    const amount = await renewalFee(x.records, x.db, x.ctx, x.lookups, String(cert.program_id));
    if (amount === undefined)
      throw new AppError(
        'conflict',
        `programme ${cert.program_id} has no renewal fee (an active renewal application process with an application_fee_id)`,
      );
    await x.records.deps.resource('certifications').updateRead(x.ctx, cert, { ...fieldsOf(cert), forecasted_renewal_amount: amount }, x.db);
    return { status: 'completed' };
  },
};
