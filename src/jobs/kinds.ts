/**
 * The kinds of background execution: the (resource, action) an execution row names. The services
 * start them (Executions.start); jobs/registry.ts gives each its handler, and start-up refuses a
 * kind listed here that has no handler there.
 */
export const EXECUTION_KINDS = {
  billingRefresh: { resource: 'billingRuns', action: 'refresh' },
  billingExecute: { resource: 'billingRuns', action: 'execute' },
  lifecycleSweep: { resource: 'lifecycle', action: 'sweep' },
  bulkLoad: { resource: 'bulkLoads', action: 'load' },
  queryRun: { resource: 'queries', action: 'run' },
} as const;

export type ExecutionKind = (typeof EXECUTION_KINDS)[keyof typeof EXECUTION_KINDS];

/** `resource.action`: how a kind is named in handlers and errors. */
export const kindName = (k: { resource: string; action: string }) => `${k.resource}.${k.action}`;
