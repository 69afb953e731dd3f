import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The tenant a piece of work runs for, carried through its async calls. On PostgreSQL every
 * connection is told this tenant (`accredit.tenant_id`) before it runs a statement, and row-level
 * security policies on every table only show and accept rows of that tenant: a second wall behind
 * the `tenant_id` condition of every query. The routes set it from the authenticated request; `*`
 * (SYSTEM) is for migrations and cross-tenant background work.
 */
export const SYSTEM_SCOPE = '*';
const scope = new AsyncLocalStorage<string>();

// Only PostgreSQL reads the scope (SQLite has no row-level security). Once an AsyncLocalStorage is
// entered, Node runs a hook on every promise of the process, so on SQLite it is never entered.
let enabled = false;
/** Called by the PostgreSQL store when it opens. */
export const enableTenantScopes = () => {
  enabled = true;
};
export const asTenant = <T>(tenantId: string, fn: () => T): T => (enabled ? scope.run(tenantId, fn) : fn());
export const asSystem = <T>(fn: () => T): T => (enabled ? scope.run(SYSTEM_SCOPE, fn) : fn());
/** '' (no rows visible) outside any scope. */
export const currentTenant = (): string => scope.getStore() ?? '';
