import type { Clock } from '../../core/clock.js';
import type { Executions } from '../../jobs/executions.js';
import type { ResourceService } from '../../resources/kit/service.js';
import type { Store } from '../../store/store.js';
import type { Commerce } from '../commerce.js';
import type { Lifecycle } from '../lifecycle.js';
import type { Log } from '../index.js';

/** What billing runs need from the rest of the server, and nothing more. */
export interface BillingDeps {
  store: Store;
  clock: Clock;
  /** Where refresh and execute run (background executions). */
  executions: Pick<Executions, 'register' | 'start' | 'list' | 'view'>;
  /** Activations and expiries go through the application lifecycle, as they would from the API. */
  lifecycle: Pick<Lifecycle, 'activate' | 'expire' | 'requirements'>;
  /** Provider invoices become orders; amounts are in the tenant's currency. */
  commerce: Pick<Commerce, 'invoiceOrder' | 'baseCurrency' | 'renewalFee'>;
  /** Every resource's service (runs, actions and the records they are about). */
  resource(slug: string): ResourceService;
  /** Where what billing recovers from is reported (the app's log). */
  log?: Pick<Log, 'warn' | 'info' | 'error'>;
  /** The From of notices that name no sender (config MAIL_FROM). */
  mailFrom?: string;
}
