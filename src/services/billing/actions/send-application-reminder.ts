import { applicationRemindable } from '../../../domain/billing/eligibility.js';
import { day } from '../types.js';
import { reminded, reminderOf, type ActionHandler } from './context.js';

/** An application that is still open gets the reminder of its expiration window. */
export const sendApplicationReminder: ActionHandler = {
  async perform(x) {
    const { action: a } = x;
    const app = await x.get('applications', a.application_id);
    if (!app || !applicationRemindable(app)) return { status: 'no longer eligible' };
    if (day(app.expiration_date) !== a.expiration_date) return { status: 'expiration date changed' };
    const reminder = reminderOf(x.opts('send_application_reminders'), a.reminder_id);
    if (!reminder) return { status: 'excluded' };
    const program = await x.shared('programs', app.program_id);
    return reminded(
      await x.notify(
        'applicationNotices',
        reminder.reminder_notice_id,
        app.email_address,
        app.program_id,
        { application: app, program },
        `app-reminder/${app.id}/${reminder.reminder_notice_id}/${a.expiration_date}`,
      ),
    );
  },
};
