import { defineResource, search } from './kit/define.js';
import { anyObject, bool, designed, list, str } from './kit/fields.js';

/**
 * Query Definitions: the queryable data types of the Certifications app, i.e. what a saved query can
 * select, filter and sort on (primary table, context, fields, default output and sort). Fields are
 * inferred by the reference catalog from the System API's query-type description response; their item
 * shapes are not described.
 *
 * Our choices:
 * - One definition per resource is built in: generated from the registry (src/queries/definitions.ts:
 *   each resource's record schema and table), served by get (its id is the resource slug) and first on
 *   the list, and refused on write (409). They are what POST /queries/{tenantId}/run/{queryType}/…
 *   runs against (src/http/queries.ts).
 * - A built-in field is { name (dotted path), type (string, number, integer, boolean, date, date-time,
 *   array, object), label, description?, enum?, item_type? (arrays), sortable }.
 * - context, common_table_expressions[] and fields[] are free-form objects (no sub-fields are known).
 * - services, default_output_fields and default_sort_fields are arrays of unstated items; we read
 *   them as names (service names, field paths) and type them as strings.
 * - The reference shows only list and get (definitions are shipped with the app); we serve the full
 *   standard set so a tenant can store definitions of its own, but only the built-in ones can be run.
 */
export const queryDefinitions = defineResource({
  slug: 'queryDefinitions',
  name: 'Query Definitions',
  singular: 'query definition',
  typeName: 'QueryDefinition',
  table: 'query_definitions',
  coverage: 'partial/inferred (reference catalog: top-level fields); array item types designed',
  fields: {
    name: str(),
    description: str(),
    primary_table: str({ description: 'table (record type) the query starts from' }),
    context: anyObject({ description: 'context the query runs in (e.g. the record a contextId names)' }),
    perform_custom_resolution_logic: bool({ description: 'the owning service must post-process the query before it is fully resolved' }),
    common_table_expressions: list(anyObject()),
    services: designed(list(str()), 'items not described; read as the names of the services that resolve the query'),
    fields: list(anyObject({ description: 'a selectable / filterable field of the query type' })),
    default_output_fields: designed(list(str()), 'items not described; read as field paths'),
    default_sort_fields: designed(list(str()), 'items not described; read as field paths'),
  },
  // The registry's definitions, one per resource, from the query service (src/queries/definitions.ts
  // reads the registry, which lists this file: the service, above both, hands them over).
  builtIn: {
    get: async (s, _ctx, id) => s.queries.definition(id),
    list: async (s) => s.queries.definitions(),
  },
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    primary_table: search.anyOf('primary_table'),
    perform_custom_resolution_logic: search.anyOf('perform_custom_resolution_logic'),
  },
  description: [
    "Field list from the System API's query-type description (GET /queries/{tenantId}/public/description/{queryType}): id, name, description, primary_table, context, perform_custom_resolution_logic, common_table_expressions, services, fields, default_output_fields, default_sort_fields.",
    'perform_custom_resolution_logic: the owning microservice post-processes the query before it is resolved.',
    'Built in: one definition per resource (id = the resource slug, e.g. certifications), generated from the resource definitions; get and list serve them (the list pages through them first, then through the stored definitions, with limit and exclusiveStartKey like any list), and a write to one is a 409. Fields are dotted paths with a type (string, number, integer, boolean, date, date-time, array, object), a label, and enum / item_type where they apply.',
    'Operators by field type: string: equals, not_equals, contains, not_contains, starts_with, ends_with, greater_than(_or_equal), less_than(_or_equal), between, in, not_in, is_empty, is_not_empty; number, integer, date, date-time: the same without the text ones; boolean: equals, not_equals, in, not_in, is_empty, is_not_empty; array: contains, not_contains (an item), is_empty, is_not_empty; object and arrays of objects: is_empty, is_not_empty.',
    'Queries are executed asynchronously, as in the System API: POST /queries/{tenantId}/run/{queryType}/{json|csv} starts one, GET /queries/{tenantId}/describe/{id} tells its status, row count and size, GET /queries/{tenantId}/result/{id} streams the rows. Output formats here: json and csv (the System API also has excel, excelUnformatted).',
  ],
});
