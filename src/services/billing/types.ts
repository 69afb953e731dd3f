import type { StoredRecord } from '../../store/records.js';
import { BILLING_RUN_JOBS } from '../../domain/billing/runs.js';

/** A record of any resource, as billing reads its fields. */
export type Rec = Record<string, any>;

export type ActionType =
  | 'activate application'
  | 'expire application'
  | 'send application reminder'
  | 'send renewal reminder'
  | 'forecast renewal'
  | 'drop certification'
  | 'bill training provider';

/** A run's job flag (`activate_applications`, …), each with its options block. */
export type RunJob = keyof typeof BILLING_RUN_JOBS;

/** Whether the run has the job switched on. */
export const jobOn = (run: StoredRecord, job: RunJob) => run[job] === true;

/** The options block of the run's job (`application_activation_options`, …); {} when absent. */
export const jobOptions = (run: StoredRecord, job: RunJob) => (run[BILLING_RUN_JOBS[job]] ?? {}) as Rec;

/** A candidate action of a refresh, stored as a billingRunAction. */
export interface Candidate {
  id: string;
  type: ActionType;
  candidate_service: string;
  candidate_id: string;
  name: string;
  certification_id?: string;
  application_id?: string;
  training_provider_id?: string;
  contact_id?: string;
  expiration_date?: string;
  reminder_id?: number;
  /** what it costs (renewals, provider bills), in minor units of currency_code (amounts.ts) */
  amount?: number;
  currency_code?: string;
}

/** The outcome of performing one action. */
export interface Outcome {
  status: 'completed' | 'no longer eligible' | 'expiration date changed' | 'excluded';
  changes?: Rec;
}

/** The date part of a date or date-time field. */
export const day = (d: unknown) => (typeof d === 'string' ? d.slice(0, 10) : undefined);

/** Page size of the scans over records. */
export const PAGE = 500;
