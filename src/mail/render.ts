import Handlebars from 'handlebars';

/**
 * Notice templates -> messages. The subject and body of a notice's `email` block are Handlebars
 * templates; the values come from the records the notice is about (see noticeVars in
 * services/notices.ts). Placeholders:
 *
 *   {{name}}                   holder / applicant / registrant name
 *   {{first_name}} {{last_name}}
 *   {{program_name}}           the programme's name
 *   {{number}}                 certificate number
 *   {{expiration_date}}        certification (or application) expiration date
 *   {{grace_period_end_date}}  end of the certification's grace period
 *   {{status}}                 the status the notice is about
 *   {{application_type}}       certification, renewal, reinstatement or transfer
 *   {{exam_name}} {{score}}    exam letters
 *   {{amount}} {{invoice_number}}  billing notices
 *   {{organization_name}}      the holder's organization
 *
 * A missing value renders empty (not strict). The body is HTML-ish: values are HTML-escaped there;
 * the subject is a header, so values go in as they are (line breaks folded to spaces).
 * Handlebars' own helpers (#if, #each, #unless, #with, lookup) work; partials and custom helpers do not.
 */
export const NOTICE_PLACEHOLDERS = [
  'name',
  'first_name',
  'last_name',
  'program_name',
  'number',
  'expiration_date',
  'grace_period_end_date',
  'status',
  'application_type',
  'exam_name',
  'score',
  'amount',
  'invoice_number',
  'organization_name',
] as const;

export interface EmailTemplate {
  subject: string;
  body: string;
  from?: string;
  from_name?: string;
  reply_to?: string;
  cc?: string;
  bcc?: string;
}

export interface OutgoingMail {
  to: string;
  from: string;
  replyTo?: string;
  cc?: string;
  bcc?: string;
  subject: string;
  html: string;
  text: string;
  /** Files sent with the message (a credential as JSON), their content as text. */
  attachments?: { filename: string; content: string; contentType: string }[];
}

type TemplateField = 'email.subject' | 'email.body';

export class TemplateError extends Error {
  constructor(
    readonly field: TemplateField,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'TemplateError';
  }
}

// An isolated environment: nothing registered on the global Handlebars leaks into notices.
const hb = Handlebars.create();
type Compiled = (vars: Record<string, unknown>) => string;
const CACHE_MAX = 500;
const cache = new Map<string, Compiled>();

function compiled(source: string, noEscape: boolean): Compiled {
  const key = `${noEscape ? 's' : 'b'}\u0000${source}`;
  let fn = cache.get(key);
  if (fn) return fn;
  fn = hb.compile(source, { strict: false, noEscape }) as Compiled;
  // Handlebars compiles lazily on first call: force it now, so a bad template is never cached.
  fn({});
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, fn);
  return fn;
}

/** Handlebars' parse errors span four lines (message, excerpt, pointer, expectations): one line here. */
function reasonOf(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines = message.split('\n');
  let reason = lines[0]!;
  if (lines.length >= 4 && /^Parse error/.test(reason)) {
    // lines[1] is the text up to the error (at most about 20 characters before it)
    reason = `${reason.replace(/:$/, '')}, at "${lines[1]!.trim()}": ${lines.slice(3).join(' ')}`;
  }
  reason = reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
  return `is not a valid template (${reason})`;
}

function render(field: TemplateField, source: string, vars: Record<string, unknown>, noEscape: boolean): string {
  try {
    return compiled(source, noEscape)(vars);
  } catch (e) {
    throw new TemplateError(field, reasonOf(e));
  }
}

// Values for a trial render: every placeholder set, so that helpers given one (#if name) run too.
const SAMPLE = Object.fromEntries(NOTICE_PLACEHOLDERS.map((p) => [p, p === 'score' ? 1 : 'x']));

/** Why a notice's template cannot be used: [] when both subject and body render. */
export function templateProblems(email: { subject?: unknown; body?: unknown } | undefined): { field: TemplateField; reason: string }[] {
  const problems: { field: TemplateField; reason: string }[] = [];
  for (const [field, source, noEscape] of [
    ['email.subject', email?.subject, true],
    ['email.body', email?.body, false],
  ] as const) {
    if (typeof source !== 'string') continue; // the schema says what is missing
    try {
      render(field, source, SAMPLE, noEscape);
    } catch (e) {
      if (e instanceof TemplateError) problems.push({ field: e.field, reason: e.reason });
      else throw e;
    }
  }
  return problems;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
const decode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });

/** A plain-text alternative: block ends become line breaks, other tags go, entities are decoded. */
export function htmlToText(html: string): string {
  return decode(
    html
      .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<li\b[^>]*>/gi, '- ')
      .replace(/<\/(p|div|li|h[1-6]|tr|table|ul|ol|blockquote)\s*>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  )
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const HAS_TAG = /<\/?[a-z][^>]*>/i;

/** `Name <address>` from the template's from / from_name, else the default sender (with from_name when given). */
function sender(t: EmailTemplate, dflt: string): string {
  const name = t.from_name?.trim();
  const address = t.from?.trim() || (/<([^>]+)>/.exec(dflt)?.[1] ?? dflt.trim());
  if (!name) return t.from?.trim() || dflt;
  return `"${name.replace(/["\\\r\n]/g, '')}" <${address}>`;
}

const optional = (v: string | undefined) => (v?.trim() ? v.trim() : undefined);

/**
 * Renders a notice's e-mail for one recipient. Throws TemplateError when the subject or body does not
 * render. A body without any tag is taken as plain text: its line breaks become <br> in the HTML part.
 */
export function renderMessage(
  template: EmailTemplate,
  vars: Record<string, unknown>,
  defaults: { from: string; to?: string },
): OutgoingMail {
  const subject = render('email.subject', template.subject, vars, true)
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .trim();
  const body = render('email.body', template.body, vars, false);
  const plain = !HAS_TAG.test(template.body);
  const html = plain ? body.replace(/\r?\n/g, '<br>\n') : body;
  const mail: OutgoingMail = {
    to: defaults.to ?? '',
    from: sender(template, defaults.from),
    subject,
    html,
    text: plain ? decode(body).trim() : htmlToText(body),
  };
  const replyTo = optional(template.reply_to);
  const cc = optional(template.cc);
  const bcc = optional(template.bcc);
  if (replyTo) mail.replyTo = replyTo;
  if (cc) mail.cc = cc;
  if (bcc) mail.bcc = bcc;
  return mail;
}
