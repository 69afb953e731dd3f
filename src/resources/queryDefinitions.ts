import { defineResource, search } from './kit/define.js';
import { anyObject, bool, designed, list, str } from './kit/fields.js';

/**
 * Query Definitions: the queryable data types of the Certifications app, i.e. what a saved query can
 * select, filter and sort on (primary table, context, fields, default output and sort). Clients read
 * them here and run queries through Rhythm's System API. Fields are inferred by the reference
 * catalog from the System API's query-type description response; their item shapes are not described.
 *
 * Our choices:
 * - context, common_table_expressions[] and fields[] are free-form objects (no sub-fields are known).
 * - services, default_output_fields and default_sort_fields are arrays of unstated items; we read
 *   them as names (service names, field paths) and type them as strings.
 * - The reference shows only list and get (definitions are shipped with the app); we serve the full
 *   standard set so a tenant can add definitions, but executing a query is not part of this resource.
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
  search: {
    ids: search.ids(),
    name: search.contains('name'),
    primary_table: search.anyOf('primary_table'),
    perform_custom_resolution_logic: search.anyOf('perform_custom_resolution_logic'),
  },
  notes: [
    'Describes queryable resources: what a saved query over this app can select, filter and sort on. Saved queries, favourites and delivery schedules live in Rhythm\'s Platform API, not here.',
    'Field list from the System API\'s query-type description (GET /queries/{tenantId}/public/description/{queryType}): id, name, description, primary_table, context, perform_custom_resolution_logic, common_table_expressions, services, fields, default_output_fields, default_sort_fields.',
    'perform_custom_resolution_logic: the owning microservice post-processes the query before it is resolved.',
    'Queries are executed asynchronously in the System API (start, poll describe, download; output formats excel, excelUnformatted, csv, json); that is outside this resource.',
    'The reference shows only list and get; create, update, patch, delete, search and batch are served as for every resource (whether the real API has them is unknown).',
    'The item types of services, default_output_fields and default_sort_fields are not described; we take them as strings (names / field paths), the doubtful part of this schema.',
  ],
});
