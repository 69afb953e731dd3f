/** Billing runs live in billing/ (one file per part); this path is kept for the modules that import it. */
export { Billing, billing, ACTION_HANDLERS, type BillingDeps } from './billing/index.js';
