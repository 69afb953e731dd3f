import { applicationExpired, EXPIRABLE_APPLICATION_STATUSES } from '../../../domain/billing/eligibility.js';
import { day } from '../types.js';
import type { ActionHandler } from './context.js';

/** An application past its expiration date expires (the lifecycle's expiry), with its notice. */
export const expireApplication: ActionHandler = {
  async perform(x) {
    const { action: a } = x;
    const app = await x.get('applications', a.application_id, true);
    if (!app || !EXPIRABLE_APPLICATION_STATUSES.includes(String(app.status ?? 'draft'))) return { status: 'no longer eligible' };
    if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    if (!applicationExpired(app, x.today)) return { status: 'no longer eligible' };
    const application = await x.records.deps.lifecycle.expire(x.ctx, app.id, x.db);
    const program = await x.shared('programs', app.program_id);
    const sent = await x.notify(
      'applicationNotices',
      x.opts('expire_applications').application_notice_id,
      app.email_address,
      app.program_id,
      { application, program },
      `expiry/${app.id}/${a.expiration_date}`,
    );
    return { status: 'completed', changes: sent };
  },
};
