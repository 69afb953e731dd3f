import { certificationDroppable } from '../../../domain/billing/eligibility.js';
import { fieldsOf } from '../../../resources/kit/service.js';
import { dropReason } from '../lookups.js';
import { day } from '../types.js';
import type { ActionHandler } from './context.js';

/** An active certification past its expiration (and grace) becomes inactive, with the drop reason and notice. */
export const dropCertification: ActionHandler = {
  singleCertification: true,
  async perform(x) {
    const { action: a, today } = x;
    const cert = await x.lockedCertification(a.certification_id);
    if (cert?.status !== 'active') return { status: 'no longer eligible' };
    if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    if (!certificationDroppable(cert, today)) return { status: 'no longer eligible' };
    const reason = await dropReason(x.records, x.db, x.ctx, x.lookups);
    const dropped = await x.records.deps.resource('certifications').updateRead(
      x.ctx,
      cert,
      {
        ...fieldsOf(cert),
        status: 'inactive',
        ...(reason ? { status_reason_id: reason } : {}),
        termination_date: today,
        last_termination_date: today,
      },
      x.db,
    );
    const program = await x.shared('programs', cert.program_id);
    const sent = await x.notify(
      'notices',
      x.opts('perform_drops').drop_notice_id,
      cert.email_address,
      cert.program_id,
      { certification: dropped, program },
      `drop/${cert.id}/${a.expiration_date}`,
    );
    return { status: 'completed', changes: sent };
  },
};
