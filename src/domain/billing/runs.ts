/**
 * The vocabulary of billing runs, shared by their definition (resources/billingRuns.ts: the schema)
 * and the services that read them (services/billing.ts, services/statistics.ts). It lives here, below
 * both, so that neither imports the other.
 */
export const BILLING_RUN_STATUSES = [
  'cancelled',
  'completed',
  'draft',
  'error',
  'preprocessing',
  'ready for execution',
  'running',
  'scheduled',
  'scheduled for execution',
  'timed out',
] as const;

/** Each job's flag and its options block. */
export const BILLING_RUN_JOBS = {
  activate_applications: 'application_activation_options',
  expire_applications: 'application_expiration_options',
  send_application_reminders: 'application_reminder_options',
  send_renewal_reminders: 'renewal_reminder_options',
  forecast_renewals: 'renewal_forecasting_options',
  perform_drops: 'drop_options',
  bill_training_providers: 'training_provider_billing_options',
} as const;
