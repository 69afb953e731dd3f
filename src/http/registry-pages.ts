import Handlebars from 'handlebars';
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { isAppError } from '../core/errors.js';
import { ID_PATTERN } from '../core/ids.js';
import type { AppServices } from '../resources/kit/context.js';
import { DIRECTORY_FIELDS, PAGING_PARAMS, searchableFields } from '../domain/registry/publishing.js';
import { longDate, standingInWords } from '../domain/registry/wording.js';

/**
 * The public registry for people: server-rendered HTML pages over the JSON registry (http/public.ts,
 * services/registry.ts), without a token, under the same per-client-address limit (its hook).
 *
 * - GET /registry/{tenantId}?directory=…&<criterion>=…: "Find a licensee": the tenant's public
 *   directories, a search form over the chosen one's searchable fields, its entries (published fields
 *   only) each with a link to its verify page.
 * - GET /registry/{tenantId}/verify/{programId}/{number}: "Verify a licence": the standing in words
 *   (domain/registry/wording.ts over the same verification as GET /public/verify/…); the QR code of a
 *   PDF certificate lands here. Unknown number: a 404 page.
 *
 * Handlebars renders every page (an isolated instance, as mail/render.ts): `{{…}}` HTML-escapes every
 * value; the one triple-stash puts a rendered page body into the layout. Errors (400, 404, 429 with
 * Retry-After) are HTML pages too, from the routes' own error handler.
 */
const hb = Handlebars.create();

const LAYOUT = hb.compile(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{title}} · {{board}}</title>
<style>
:root{color-scheme:light}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#fff}
header,main,footer{max-width:48rem;margin:0 auto;padding:1rem}
header{border-bottom:1px solid #767676}
.board{margin:0;font-weight:600}
a{color:#0645ad}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #1a1a1a;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
label{display:block;font-weight:600;margin-top:.75rem}
input{font:inherit;padding:.5rem;border:1px solid #595959;border-radius:4px;width:100%;max-width:24rem;box-sizing:border-box}
button{font:inherit;margin-top:1rem;padding:.5rem 1.25rem;border:0;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ccc;vertical-align:top}
caption{text-align:left;font-weight:600}
.standing{display:inline-block;padding:.25rem .75rem;border-radius:4px;color:#fff;font-weight:700;font-size:1.25rem}
.current{background:#0b6b2b}.in_grace{background:#7a4d00}.lapsed,.suspended,.retired,.inactive{background:#a4161a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.alert{border-left:4px solid #a4161a;padding:.5rem 1rem;background:#fdecec}
/* on a phone each result is a card: the cells stacked, each with its column's label */
@media (max-width:40rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}
thead tr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table,caption,tbody,tr,td{display:block}tr{border-bottom:1px solid #ccc;padding:.5rem 0}td{border:0;padding:.125rem 0}
td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
</style>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header><p class="board">{{board}}</p></header>
<main id="main">
{{{body}}}
</main>
<footer><p><a href="/registry/{{tenant}}">Find a licensee</a></p></footer>
</body>
</html>
`);

const FIND = hb.compile(`<h1>Find a licensee</h1>
{{#unless directories.length}}<p>This registry has no public directory.</p>{{/unless}}
{{#if several}}<nav aria-label="Directories"><h2>Directories</h2><ul>
{{#each directories}}<li><a href="{{href}}"{{#if current}} aria-current="page"{{/if}}>{{name}}</a></li>{{/each}}
</ul></nav>{{/if}}
{{#if directory}}
<h2>{{directory.name}}</h2>
<form method="get" action="/registry/{{tenant}}" role="search" aria-label="Search {{directory.name}}">
<input type="hidden" name="directory" value="{{directory.id}}">
{{#each fields}}<label for="f-{{name}}">{{label}}</label>
<input id="f-{{name}}" name="{{name}}" value="{{value}}"{{#if numeric}} inputmode="numeric"{{/if}} autocomplete="off">
{{/each}}
<button type="submit">Search</button>
</form>
{{#if errors.length}}<div class="alert" role="alert"><p>The search could not be run:</p><ul>{{#each errors}}<li>{{field}}: {{reason}}</li>{{/each}}</ul></div>{{/if}}
{{#if searched}}
<h2 id="results">Results</h2>
<p role="status">{{#if rows.length}}{{rows.length}} found{{#if next}} (more on the next page){{/if}}.{{else}}No licensee matches.{{/if}}</p>
{{#if rows.length}}<table>
<caption>Licensees matching the search</caption>
<thead><tr>{{#each columns}}<th scope="col">{{this}}</th>{{/each}}<th scope="col"><span class="sr">Verify</span></th></tr></thead>
<tbody>
{{#each rows}}<tr>{{#each cells}}<td data-label="{{label}}">{{value}}</td>{{/each}}<td><a href="{{verify}}">Verify<span class="sr"> licence {{number}}</span></a></td></tr>
{{/each}}</tbody>
</table>{{/if}}
{{#if next}}<p><a href="{{next}}">Next page</a></p>{{/if}}
{{/if}}
{{/if}}`);

const VERIFY = hb.compile(`<h1>Verify a licence</h1>
<p><span class="standing {{word}}" id="standing">{{label}}</span></p>
<p id="standing-sentence">{{sentence}}</p>
<dl aria-label="Licence details">
<dt>Holder</dt><dd id="holder">{{holder}}</dd>
<dt>Programme</dt><dd>{{program}}</dd>
<dt>Licence number</dt><dd>{{number}}</dd>
{{#if certified}}<dt>Certified on</dt><dd>{{certified}}</dd>{{/if}}
{{#if expires}}<dt>Expires on</dt><dd>{{expires}}</dd>{{/if}}
{{#if grace}}<dt>Grace period ends</dt><dd>{{grace}}</dd>{{/if}}
<dt>Checked on</dt><dd>{{checked}}</dd>
</dl>`);

const ERROR = hb.compile(`<h1>{{heading}}</h1>
<p class="alert" role="alert">{{message}}</p>`);

/** Labels of the registry fields where a directory gives none. */
const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  first_name: 'First name',
  last_name: 'Last name',
  certificate_name: 'Name on the certificate',
  job_title: 'Job title',
  city: 'City',
  state: 'State',
  country: 'Country',
  email_address: 'E-mail address',
  number: 'Licence number',
  program_id: 'Programme',
  status: 'Status',
  standing: 'Standing',
  certification_date: 'Certified on',
  expiration_date: 'Expires on',
  renewal_date: 'Renewal date',
};

const NAME_FIELDS = new Set(['name', 'first_name', 'last_name', 'program_id', 'number']);
const CONTROL_PARAMS = new Set<string>(['directory', ...PAGING_PARAMS]);

const html = (reply: FastifyReply, status: number, page: string) =>
  reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page);

const htmlResponse = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });

export function registerRegistryPages(app: FastifyInstance, services: AppServices, publicRequest: onRequestHookHandler) {
  const { registry } = services;
  const tenantId = Type.String({ pattern: ID_PATTERN });
  const tags = ['Public registry pages'];

  const boardName = async (tenant: string) => {
    const s = await services.resource('settings').table.get(services.store.db, tenant, tenant);
    return typeof s?.board_name === 'string' && s.board_name.trim() ? s.board_name : tenant;
  };
  const page = (board: string, tenant: string, title: string, body: string) => LAYOUT({ board, tenant, title, body });

  /** Every error of these routes (validation, 404, the rate limit's 429 …) as an HTML page. */
  const errorPage = (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const tenant = String((req.params as { tenantId?: string } | undefined)?.tenantId ?? '');
    let status = 500;
    let message = 'Something went wrong on our side. Please try again later.';
    if (isAppError(err)) {
      if (err.headers) reply.headers(err.headers);
      status = err.status;
      if (status < 500) message = err.message;
      else req.log.error({ err }, 'registry page failed');
    } else if (err.validation) {
      status = 400;
      message = `The address is not valid: ${err.message}`;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      message = err.message;
    } else {
      req.log.error({ err }, 'registry page failed');
    }
    const heading = status === 404 ? 'Not found' : status === 429 ? 'Too many requests' : status < 500 ? 'Request not valid' : 'Error';
    return html(reply, status, page(tenant, tenant, heading, ERROR({ heading, message })));
  };

  app.get('/registry/:tenantId', {
    onRequest: publicRequest,
    errorHandler: errorPage,
    schema: {
      tags,
      security: [],
      operationId: 'registryPages_find',
      summary: 'Find a licensee: the public directories as an HTML page (no token)',
      description:
        "An HTML page for people: the tenant's public directories, a search form over the chosen directory's searchable fields (directory=<id>; the first one by default) and, when a criterion is given (or the directory lists), its entries with their published fields only and a link to each licence's verify page. The criteria and paging are those of GET /public/directories/{tenantId}/{id}/search. Errors are HTML pages. Limited per client address with the public registry (429 with Retry-After).",
      params: Type.Object({ tenantId }),
      querystring: Type.Object(
        {
          directory: Type.Optional(
            Type.String({ pattern: services.resource('directories').resource.idPattern, description: 'the directory searched' }),
          ),
        },
        {
          additionalProperties: Type.String({
            maxLength: 512,
            description: 'a searchable field of the directory and the value looked for; limit, exclusiveStartKey',
          }),
        },
      ),
      response: {
        200: htmlResponse('the page'),
        400: htmlResponse('a criterion is not valid (the form, with the reasons)'),
        404: htmlResponse('no such public directory'),
        429: htmlResponse('too many requests from this address'),
      },
    },
    handler: async (req, reply) => {
      const tenant = req.ctx.tenantId;
      const query = req.query as Record<string, string>;
      const all = await registry.publicDirectories(tenant);
      const chosen = query.directory !== undefined ? all.find((d) => d.id === query.directory) : all[0];
      if (query.directory !== undefined && !chosen) {
        return errorPage(
          Object.assign(new Error(), { statusCode: 404, message: `There is no public directory ${query.directory}.` }) as FastifyError,
          req,
          reply,
        );
      }
      const base = `/registry/${encodeURIComponent(tenant)}`;
      const view: Record<string, unknown> = {
        tenant,
        several: all.length > 1,
        directories: all.map((d) => ({
          name: d.name ?? d.id,
          href: `${base}?directory=${encodeURIComponent(d.id)}`,
          current: d === chosen,
        })),
      };
      let status = 200;
      if (chosen) {
        const labels = new Map((chosen.searchable_fields ?? []).map((f) => [f?.name, f?.label]));
        const label = (f: string) => (typeof labels.get(f) === 'string' && labels.get(f) ? String(labels.get(f)) : (FIELD_LABELS[f] ?? f));
        const criteria = Object.fromEntries(Object.entries(query).filter(([k]) => !CONTROL_PARAMS.has(k)));
        const given = Object.values(criteria).some((v) => String(v).trim() !== '');
        view.directory = { id: chosen.id, name: chosen.name ?? chosen.id };
        view.fields = searchableFields(chosen).map((f) => ({
          name: f,
          label: label(f),
          value: criteria[f] ?? '',
          numeric: DIRECTORY_FIELDS[f] === 'number',
        }));
        if (given || chosen.display_mode === 'list') {
          try {
            const { limit, exclusiveStartKey } = query;
            const res = await registry.entries(tenant, chosen, {
              ...criteria,
              ...(limit !== undefined ? { limit } : {}),
              ...(exclusiveStartKey !== undefined ? { exclusiveStartKey } : {}),
            });
            view.searched = true;
            const rest = [...new Set(res.Items.flatMap((e) => Object.keys(e)))].filter((k) => !NAME_FIELDS.has(k) && k !== 'program');
            const columns = ['Name', 'Programme', 'Licence number', ...rest.map(label)];
            view.columns = columns;
            view.rows = res.Items.map((e) => ({
              number: e.number,
              cells: [
                e.name ?? [e.first_name, e.last_name].filter(Boolean).join(' '),
                e.program.name ?? e.program.id,
                e.number,
                ...rest.map((k) => (k.endsWith('_date') ? longDate(e[k] as string) : e[k]) ?? ''),
              ].map((value, i) => ({ label: columns[i], value })),
              verify: `${base}/verify/${encodeURIComponent(e.program.id)}/${e.number}`,
            }));
            if (res.LastEvaluatedKey) {
              const q = new URLSearchParams({ ...criteria, directory: chosen.id, exclusiveStartKey: res.LastEvaluatedKey });
              if (limit !== undefined) q.set('limit', limit);
              view.next = `${base}?${q}`;
            }
          } catch (err) {
            if (!isAppError(err) || err.status !== 400) throw err;
            status = 400;
            view.errors = err.errors?.length ? err.errors : [{ field: '(query)', reason: err.message }];
          }
        }
      }
      return html(reply, status, page(await boardName(tenant), tenant, 'Find a licensee', FIND(view)));
    },
  });

  app.get('/registry/:tenantId/verify/:programId/:number', {
    onRequest: publicRequest,
    errorHandler: errorPage,
    schema: {
      tags,
      security: [],
      operationId: 'registryPages_verify',
      summary: 'Verify a licence: its standing today as an HTML page (no token)',
      description:
        "An HTML page for people (the page a PDF certificate's QR code opens): the holder, programme, number and dates, and the standing in words (current and valid until …, in its grace period until …, lapsed, suspended, retired), from the same verification as GET /public/verify/{tenantId}/{programId}/{number}. An unknown number is a 404 page. Limited per client address with the public registry (429 with Retry-After).",
      params: Type.Object({
        tenantId,
        programId: Type.String({ pattern: services.resource('programs').resource.idPattern }),
        number: Type.String({ pattern: '^[0-9]{1,15}$', description: 'the licence (certificate) number' }),
      }),
      response: {
        200: htmlResponse('the standing of the licence'),
        400: htmlResponse('the address is not valid'),
        404: htmlResponse('no such licence'),
        429: htmlResponse('too many requests from this address'),
      },
    },
    handler: async (req, reply) => {
      const tenant = req.ctx.tenantId;
      const p = req.params as { programId: string; number: string };
      const v = await registry.verify(tenant, p.programId, Number(p.number));
      const words = standingInWords(v);
      const body = VERIFY({
        ...words,
        holder: v.holder.name,
        program: v.program.name ?? v.program.id,
        number: v.number,
        certified: longDate(v.certification_date),
        expires: longDate(v.expiration_date),
        grace: v.grace_period_end_date && v.grace_period_end_date !== v.expiration_date ? longDate(v.grace_period_end_date) : undefined,
        checked: longDate(v.checked_on),
      });
      return html(reply, 200, page(await boardName(tenant), tenant, `Licence ${v.number}: ${words.label}`, body));
    },
  });
}
