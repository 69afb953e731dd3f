import type { Resource } from './kit/define.js';
import { billingRuns } from './billingRuns.js';

/** The registry: every resource the server serves. */
export const RESOURCES: Resource[] = [billingRuns];

export const tableSpecs = () => RESOURCES.map((r) => r.table);
