/**
 * Whether a notice goes out, and when not, why: the one decision every sender asks (billing runs,
 * status changes of applications, exam letters, the lifecycle sweep). Plain data in, plain data out.
 *
 * The reasons are recorded where the sending was decided (a billing run action's
 * `notice_status_reason`, an exam registration's `notices[].status_reason`, …), so that a notice that
 * did not go out always says why.
 */

/** Why a notice was not sent. The first six come from this decision; the last two from queueing it. */
export const NOT_SENT_REASONS = [
  'notice not found',
  'notice inactive',
  'notice limited to other programmes',
  'notice limited to other exams',
  'notice limited to other statuses',
  'notice limited to other status reasons',
  'no address',
  'template does not render',
  'already queued',
] as const;
export type NotSentReason = (typeof NOT_SENT_REASONS)[number];

/** The fields of a notice (notices, applicationNotices, examNotices) that decide whether it is sent. */
export interface NoticeLike {
  id?: string;
  is_active?: boolean;
  restrict_to_certain_programs?: boolean;
  restricted_program_ids?: readonly string[];
  restrict_to_certain_exams?: boolean;
  restricted_exam_ids?: readonly string[];
  restrict_to_certain_statuses?: boolean;
  applicable_statuses?: readonly string[];
  restrict_to_certain_status_reasons?: boolean;
  applicable_status_reason_ids?: readonly string[];
}

/** What the notice would be about. */
export interface NoticeFacts {
  /**
   * The programmes of the record (a certification's or application's one; an exam's several). A
   * notice limited to certain programmes is sent only when one of them is listed.
   */
  programIds?: readonly (string | undefined | null)[];
  /** The exam of an exam letter; a notice limited to certain exams is sent only for a listed one. */
  examId?: string;
  /**
   * The status (and its reason) the notice is sent for. Given by senders that pick notices by status
   * (a status change); then the notice's status and status-reason limits apply too. A notice named
   * explicitly (a billing run's reminder, a programme's lapse notice) is not filtered by status.
   */
  status?: { status: string; status_reason_id?: string | null };
  /** The recipient's e-mail address, if any. */
  address?: unknown;
}

export type NoticeDecision = { send: true; address: string } | { send: false; reason: NotSentReason };

const listed = (list: readonly string[] | undefined, v: unknown) => Array.isArray(list) && typeof v === 'string' && list.includes(v);

/**
 * Send, to the trimmed address, or not, with the first reason that applies: missing notice, switched
 * off (`is_active: false`), outside a restriction that is switched on (programmes, exams, statuses,
 * status reasons), no address.
 */
export function noticeDecision(notice: NoticeLike | undefined | null, facts: NoticeFacts): NoticeDecision {
  if (!notice) return { send: false, reason: 'notice not found' };
  if (notice.is_active === false) return { send: false, reason: 'notice inactive' };
  if (notice.restrict_to_certain_programs === true && !(facts.programIds ?? []).some((p) => listed(notice.restricted_program_ids, p))) {
    return { send: false, reason: 'notice limited to other programmes' };
  }
  if (notice.restrict_to_certain_exams === true && !listed(notice.restricted_exam_ids, facts.examId)) {
    return { send: false, reason: 'notice limited to other exams' };
  }
  if (facts.status) {
    if (notice.restrict_to_certain_statuses === true && !listed(notice.applicable_statuses, facts.status.status)) {
      return { send: false, reason: 'notice limited to other statuses' };
    }
    if (notice.restrict_to_certain_status_reasons === true && !listed(notice.applicable_status_reason_ids, facts.status.status_reason_id)) {
      return { send: false, reason: 'notice limited to other status reasons' };
    }
  }
  const address = typeof facts.address === 'string' ? facts.address.trim() : '';
  if (!address) return { send: false, reason: 'no address' };
  return { send: true, address };
}
