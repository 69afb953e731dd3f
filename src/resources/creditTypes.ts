import { defineResource, search } from './kit/define.js';
import { bool, designed, ref, req, str } from './kit/fields.js';
import type { HookContext } from './kit/define.js';
import { invalid } from '../core/errors.js';

/** Walks up the parents of the credit type being written; reaching the type itself is a cycle (400). */
async function parentCycleCheck(h: HookContext): Promise<void> {
  const next = h.next;
  if (!next?.parent_credit_type_id) return;
  const table = h.services.resource('creditTypes').table;
  const seen = new Set<string>();
  for (let id: string | undefined = String(next.parent_credit_type_id); id; ) {
    if (id === next.id)
      throw invalid([
        {
          field: 'parent_credit_type_id',
          reason: `credit type ${next.id} would be its own ancestor (through ${[...seen, id].join(' -> ')})`,
        },
      ]);
    if (seen.has(id)) return; // an older cycle above, not through this type
    seen.add(id);
    const parent: Record<string, unknown> | undefined = await table.get(h.db, h.ctx.tenantId, id);
    id = parent?.parent_credit_type_id ? String(parent.parent_credit_type_id) : undefined;
  }
}

/**
 * Credit Types: the kind and unit of continuing-education credit (e.g. "CEU - Clinical", "Ethics
 * hours"). Credits carry one (credits.type_id), and course offerings and courses say how many of
 * which type a completed registration earns (credits_to_assign[].credit_type_id); application
 * processes require credits by type. The reference shows no page for it.
 *
 * Our choices: id and name as every reference list of this API; description, the unit the quantity
 * is counted in, and is_active are designed.
 */
/** The fields of creditTypes, apart from the definition: the domain derives its types from them (FieldValues). */
export const creditTypeFields = {
  name: req(str()),
  description: designed(str(), 'a reference list entry needs a longer explanation than its name'),
  unit: designed(
    str({ description: 'what a quantity of 1 means, e.g. "hour", "CEU", "point"' }),
    'the catalog describes a credit type as the unit and kind of credit; quantities need a unit to be read',
  ),
  is_active: designed(bool(), 'retire a type without deleting it; every other reference list of the API has the flag'),
  parent_credit_type_id: designed(
    ref('creditTypes', {
      description:
        'the broader credit type this one is a sub-type of (e.g. "Medical errors" under "Nursing CE"); a credit total over the parent counts it',
    }),
    'boards count topic hours toward a general total; sub-types let one total name the general type',
  ),
};

export const creditTypes = defineResource({
  slug: 'creditTypes',
  name: 'Credit Types',
  singular: 'credit type',
  typeName: 'CreditType',
  table: 'credit_types',
  coverage: 'none in the reference beyond name (assumed from the API-wide pattern); description, unit and is_active designed',
  fields: creditTypeFields,
  // A credit type cannot be its own ancestor.
  hooks: { validate: (h) => parentCycleCheck(h) },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    is_active: search.anyOf('is_active'),
    parent_credit_type_id: search.anyOf('parent_credit_type_id'),
  },
  description: [
    "parent_credit_type_id makes a credit type a sub-type of another; application processes' credit_totals count a type with its sub-types. A parent chain that comes back to the type itself is a 400.",
  ],
});
