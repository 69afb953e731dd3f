import { AppError } from '../core/errors.js';
import type { RequestContext } from '../core/context.js';
import type { AppServices } from '../resources/kit/context.js';
import type { Db } from '../store/store.js';
import { DomainError, type ExpirationRuleSetLike } from '../domain/lifecycle/expiration.js';
import { applicationWindowError } from '../domain/lifecycle/windows.js';

type Rec = Record<string, any>;

/**
 * Renewals and reinstatements only inside their window, at every step of the application
 * (generateApplication, submit, approve, activate): loads the certification, its programme
 * (default_renewal_period) and rule set, asks domain/lifecycle/windows.ts, and refuses with a 409
 * whose message names the window and its dates. Called before anything is written (so before any
 * credit is consumed). Without a certification (not named yet, or missing) there is nothing to judge
 * here: the reference check and activation answer for it.
 */
export async function checkApplicationWindow(s: AppServices, db: Db, ctx: RequestContext, app: Rec, today: string): Promise<void> {
  if (app.type !== 'renewal' && app.type !== 'reinstatement') return;
  if (typeof app.certification_id !== 'string' || !app.certification_id) return;
  const cert = await s.resource('certifications').table.get(db, ctx.tenantId, app.certification_id);
  if (!cert) return; // the reference check (400) or activation (404) says why
  if (cert.status === 'retired')
    throw new AppError('conflict', `certification ${cert.id} is retired; it can no longer be renewed or reinstated`);
  const program =
    typeof cert.program_id === 'string' ? await s.resource('programs').table.get(db, ctx.tenantId, cert.program_id) : undefined;
  const ruleSet =
    typeof program?.expiration_rule_set_id === 'string'
      ? ((await s.resource('expirationRuleSets').table.get(db, ctx.tenantId, program.expiration_rule_set_id)) as unknown as
          | ExpirationRuleSetLike
          | undefined)
      : undefined;
  // the facts a rule set's conditions see: those activation gives it
  const facts = { ...app, application_type: app.type, application_id: app.id, program_id: program?.id ?? cert.program_id };
  let why: string | null;
  try {
    why = applicationWindowError(app.type, cert as Rec, ruleSet, facts, program?.default_renewal_period as number | undefined, today);
  } catch (e) {
    if (e instanceof DomainError)
      throw new AppError('conflict', `the renewal window cannot be computed: ${e.message}`, {
        errors: [{ field: e.field, reason: e.reason }],
      });
    throw e;
  }
  if (why) throw new AppError('conflict', why);
}
