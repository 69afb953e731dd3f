import type { ActionHandler } from './context.js';

/** An approved application whose requirements are met becomes a certification (the lifecycle's activation), with its notice. */
export const activateApplication: ActionHandler = {
  async perform(x) {
    const { action: a } = x;
    const app = await x.get('applications', a.application_id, true);
    if (app?.status !== 'approved') return { status: 'no longer eligible' };
    const { application, certification } = await x.records.deps.lifecycle.activate(x.ctx, app.id, x.db);
    const program = await x.shared('programs', certification.program_id);
    const sent = await x.notify(
      'applicationNotices',
      x.opts('activate_applications').application_notice_id,
      application.email_address ?? certification.email_address,
      certification.program_id,
      { application, certification, program },
      `activation/${app.id}`,
    );
    return { status: 'completed', changes: sent };
  },
};
