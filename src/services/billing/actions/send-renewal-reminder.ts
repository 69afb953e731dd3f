import { fieldsOf } from '../../../resources/kit/service.js';
import { day } from '../types.js';
import { reminded, reminderOf, type ActionHandler } from './context.js';

/** An active certification gets the renewal reminder of its expiration window; the certification records it was sent. */
export const sendRenewalReminder: ActionHandler = {
  singleCertification: true,
  async perform(x) {
    const { action: a } = x;
    const cert = await x.lockedCertification(a.certification_id);
    if (cert?.status !== 'active') return { status: 'no longer eligible' };
    if (day(cert.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    const reminder = reminderOf(x.opts('send_renewal_reminders'), a.reminder_id);
    if (!reminder) return { status: 'excluded' };
    const program = await x.shared('programs', cert.program_id);
    const outcome = reminded(
      await x.notify(
        'notices',
        reminder.reminder_notice_id,
        cert.email_address,
        cert.program_id,
        { certification: cert, program },
        `renewal-reminder/${cert.id}/${reminder.reminder_notice_id}/${a.expiration_date}`,
      ),
    );
    // a reminder that did not go out is not recorded as sent on the certification
    if (outcome.status === 'completed')
      await x.records.deps
        .resource('certifications')
        .updateRead(x.ctx, cert, { ...fieldsOf(cert), last_reminder_sent_date: x.today }, x.db);
    return outcome;
  },
};
