import type { FieldError } from '../core/errors.js';
import type { Resource } from '../resources/kit/define.js';
import { fieldsOf } from '../resources/kit/service.js';
import { RecordTable } from '../store/records.js';
import { tenantsOf } from '../store/ops.js';
import type { Store } from '../store/store.js';
import { asSystem } from '../store/tenant-scope.js';

/**
 * `accredit check`: every stored record judged by the current definitions — the schema of its
 * resource, conditional requirements and field checks, as a create would be — so that records an
 * older release accepted and this one refuses are found before anyone trips over them. Reads only.
 * Such a record stays readable and can be PATCHed on its other fields; a PATCH (or PUT) of the
 * offending field must make it valid.
 */
export interface Refused {
  resource: string;
  tenant_id: string;
  id: string;
  errors: FieldError[];
}

export interface CheckSummary {
  checked: number;
  /** resource slug -> records refused */
  refused: Map<string, number>;
}

export async function checkRecords(store: Store, resources: Resource[], onRefused: (r: Refused) => void): Promise<CheckSummary> {
  const summary: CheckSummary = { checked: 0, refused: new Map() };
  for (const resource of resources) {
    const table = new RecordTable(resource.table, store.dialect);
    for (const tenant of await tenantsOf(store, resource.table.name)) {
      await asSystem(async () => {
        for await (const page of table.scan(store.db, tenant, [], 500)) {
          for (const record of page) {
            summary.checked++;
            const errors = resource.validateAll(fieldsOf(record));
            if (!errors.length) continue;
            summary.refused.set(resource.def.slug, (summary.refused.get(resource.def.slug) ?? 0) + 1);
            onRefused({ resource: resource.def.slug, tenant_id: tenant, id: record.id, errors });
          }
        }
      });
    }
  }
  return summary;
}

/** The command's text: per resource, each refused record with its fields and reasons (at most `max` each). */
export async function checkCommand(store: Store, resources: Resource[], write: (s: string) => void, max = 1000): Promise<number> {
  const shown = new Map<string, number>();
  let current: string | undefined;
  const summary = await checkRecords(store, resources, (r) => {
    const n = (shown.get(r.resource) ?? 0) + 1;
    shown.set(r.resource, n);
    if (r.resource !== current) {
      current = r.resource;
      write(`${r.resource}:\n`);
    }
    if (n <= max) write(`  tenant ${r.tenant_id}, id ${r.id}: ${r.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}\n`);
  });
  for (const [slug, n] of summary.refused) if (n > max) write(`${slug}: … and ${n - max} more\n`);
  const total = [...summary.refused.values()].reduce((a, b) => a + b, 0);
  write(
    total
      ? `${total} of ${summary.checked} stored records (${[...summary.refused].map(([s, n]) => `${s} ${n}`).join(', ')}) are refused by the current definitions: ` +
          'they stay readable and can be PATCHed on their other fields; correct the fields named above (docs/upgrading.md)\n'
      : `all ${summary.checked} stored records pass the current definitions\n`,
  );
  return total;
}
