/**
 * The computed statistics' ids and count keys, shared by the statistics definition
 * (resources/statistics.ts: the schema and the built-in records) and the service that computes them
 * (services/statistics.ts).
 */
export const STATISTICS_IDS = ['programs', 'billing'] as const;

/** `missing requirements` -> `missing_requirements`: the keys of the count blocks. */
export const countKey = (status: string) => status.replace(/[^a-z0-9]+/gi, '_').toLowerCase();
