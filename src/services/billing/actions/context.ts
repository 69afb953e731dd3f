import type { RequestContext } from '../../../core/context.js';
import type { StoredRecord } from '../../../store/records.js';
import type { Db } from '../../../store/store.js';
import { noticeVars, sendNotice, type NoticeOutcome } from '../../notices.js';
import type { Lookups } from '../lookups.js';
import type { BillingRecords } from '../records.js';
import { jobOptions, type ActionType, type Outcome, type Rec, type RunJob } from '../types.js';

/** What a handler of one action type gets: the action, its run, the chunk's transaction and lookups. */
export interface ActionContext {
  db: Db;
  ctx: RequestContext;
  run: StoredRecord;
  action: StoredRecord;
  records: BillingRecords;
  lookups: Lookups;
  now: Date;
  today: string;
  /** The From of notices that name no sender. */
  from: string;
  /** A record by id (undefined for a missing id), locked when `lock`. */
  get(slug: string, id: unknown, lock?: boolean): Promise<StoredRecord | undefined>;
  /** A programme or notice template: read once per chunk (the actions of a run share a few). */
  shared(slug: string, id: unknown): Promise<StoredRecord | undefined>;
  /** The action's certification, locked: as read at the chunk's start when it still may be. */
  lockedCertification(id: unknown): Promise<StoredRecord | undefined>;
  /** The options block of one of the run's jobs. */
  opts(job: RunJob): Rec;
  /**
   * Sends the run's notice for this action (when the run names one): the one decision of
   * noticeDecision (switched off, limited to other programmes, no address, …), then the outbox.
   * Answers the action's notice fields: which notice, queued or not sent and why.
   */
  notify(
    noticeSlug: string,
    noticeId: unknown,
    to: unknown,
    programId: unknown,
    facts: Parameters<typeof noticeVars>[0],
    key: string,
  ): Promise<Rec>;
}

/** One action type: how an action of it is performed. */
export interface ActionHandler {
  /** Whether the action's only record is its certification (read and locked at the chunk's start, changed by nothing else). */
  singleCertification?: boolean;
  perform(x: ActionContext): Promise<Outcome>;
}

export type ActionHandlers = Record<ActionType, ActionHandler>;

/** An action's notice fields for what became of its notice. */
function noticeFields(noticeId: string, sent: NoticeOutcome): Rec {
  return { notice_id: noticeId, notice_status: sent.status, ...(sent.status === 'not sent' ? { notice_status_reason: sent.reason } : {}) };
}

/** A reminder is only its e-mail: one that is not sent (other than sent before) excludes the action. */
export const reminded = (fields: Rec): Outcome =>
  fields.notice_status === 'not sent' && fields.notice_status_reason !== 'already queued'
    ? { status: 'excluded', changes: fields }
    : { status: 'completed', changes: fields };

/** The reminder of a reminders job that the action is for (by its id, or its position from 1). */
export function reminderOf(o: Rec, id: unknown): Rec | undefined {
  return ((o.reminders ?? []) as Rec[]).find((r, i) => (typeof r.id === 'number' ? r.id : i + 1) === id);
}

export function actionContext(
  records: BillingRecords,
  db: Db,
  ctx: RequestContext,
  run: StoredRecord,
  a: StoredRecord,
  lookups: Lookups,
): ActionContext {
  const { deps } = records;
  const get = (slug: string, id: unknown, lock = false) =>
    typeof id === 'string' ? deps.resource(slug).table.get(db, ctx.tenantId, id, { forUpdate: lock }) : Promise.resolve(undefined);
  const shared = async (slug: string, id: unknown) => {
    if (typeof id !== 'string') return undefined;
    const key = `${slug}/${id}`;
    if (lookups.records.has(key)) return lookups.records.get(key);
    const rec = await get(slug, id);
    lookups.records.set(key, rec);
    return rec;
  };
  const from = deps.mailFrom ?? 'accredit <no-reply@localhost>';
  const now = deps.clock.now();
  return {
    db,
    ctx,
    run,
    action: a,
    records,
    lookups,
    now,
    today: now.toISOString().slice(0, 10),
    from,
    get,
    shared,
    lockedCertification(id) {
      const cert = typeof id === 'string' ? lookups.certifications.get(id) : undefined;
      if (!cert) return get('certifications', id, true);
      lookups.certifications.delete(cert.id);
      return Promise.resolve(cert);
    },
    opts: (job) => jobOptions(run, job),
    async notify(noticeSlug, noticeId, to, programId, facts, key) {
      if (typeof noticeId !== 'string' || !noticeId) return {};
      const notice = await shared(noticeSlug, noticeId);
      const sent = await sendNotice(db, ctx.tenantId, {
        key,
        notice,
        facts: { programIds: [typeof programId === 'string' ? programId : undefined], address: to },
        vars: noticeVars(facts),
        source: `billingRunActions/${a.id}`,
        now,
        from,
      });
      return noticeFields(noticeId, sent);
    },
  };
}
