import type { RequestContext } from '../../../core/context.js';
import type { StoredRecord } from '../../../store/records.js';
import type { Db } from '../../../store/store.js';
import type { Lookups } from '../lookups.js';
import type { BillingRecords } from '../records.js';
import type { ActionType, Outcome } from '../types.js';
import { activateApplication } from './activate-application.js';
import { billTrainingProvider } from './bill-training-provider.js';
import { actionContext, type ActionHandler, type ActionHandlers } from './context.js';
import { dropCertification } from './drop-certification.js';
import { expireApplication } from './expire-application.js';
import { forecastRenewal } from './forecast-renewal.js';
import { sendApplicationReminder } from './send-application-reminder.js';
import { sendRenewalReminder } from './send-renewal-reminder.js';

/** Every action type of a billing run and its handler: a new type is one file and one line here. */
export const ACTION_HANDLERS: ActionHandlers = {
  'activate application': activateApplication,
  'expire application': expireApplication,
  'send application reminder': sendApplicationReminder,
  'send renewal reminder': sendRenewalReminder,
  'forecast renewal': forecastRenewal,
  'drop certification': dropCertification,
  'bill training provider': billTrainingProvider,
};

const BY_TYPE = new Map<unknown, ActionHandler>(Object.entries(ACTION_HANDLERS));
const SINGLE_CERTIFICATION = new Set<unknown>(
  Object.keys(ACTION_HANDLERS).filter((t) => ACTION_HANDLERS[t as ActionType].singleCertification),
);

/** Whether the action's only record is its certification (read and locked first, changed by nothing else). */
export const singleCertification = (type: unknown) => SINGLE_CERTIFICATION.has(type);

/** Performs one action by its type's handler; an action of an unknown type is excluded. */
export async function perform(
  records: BillingRecords,
  db: Db,
  ctx: RequestContext,
  run: StoredRecord,
  a: StoredRecord,
  lookups: Lookups,
): Promise<Outcome> {
  // an action that may change other certifications (an activation) makes those read at the chunk's start stale
  if (!singleCertification(a.type)) lookups.certifications.clear();
  const handler = BY_TYPE.get(a.type);
  if (!handler) return { status: 'excluded' };
  return handler.perform(actionContext(records, db, ctx, run, a, lookups));
}
