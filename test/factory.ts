import RandExpModule from 'randexp';
import { RESOURCES } from '../src/resources/index.js';
import type { Resource } from '../src/resources/kit/define.js';
import type { TestApp } from './helpers.js';

/**
 * Builds minimal valid records for any resource from its definition: required fields only, with
 * references satisfied by creating their targets first (recursively, through the API). Used by the
 * contract test, so that a new definition is covered without writing a line of test.
 */
type S = Record<string, any>;
// randexp is CommonJS; its typings describe the ES default export.
const RandExp = ((RandExpModule as any).default ?? RandExpModule) as new (
  p: string,
) => { max: number; randInt: (a: number, b: number) => number; gen(): string };
export const bySlug = new Map(RESOURCES.map((r) => [r.def.slug, r]));

export function sampleScalar(s: S, seed = 0): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'string': {
      if (Array.isArray(s.examples) && typeof s.examples[0] === 'string') return s.examples[0];
      if (s.format === 'date') return '2025-03-01';
      if (s.format === 'date-time') return '2025-03-01T12:00:00Z';
      if (s.format === 'email') return `person${seed}@example.org`;
      if (s.format === 'uri') return 'https://example.org/x';
      if (s.pattern) {
        const r = new RandExp(s.pattern);
        r.max = 3;
        r.randInt = (a: number) => a; // deterministic: the shortest match
        return r.gen();
      }
      const v = `test ${seed}`;
      return s.minLength && v.length < s.minLength ? v.padEnd(s.minLength, 'x') : s.maxLength ? v.slice(0, s.maxLength) : v;
    }
    case 'integer':
    case 'number': {
      const min = s.minimum !== undefined ? s.minimum : s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1;
      const v = Math.max(min, 1);
      return s.maximum !== undefined ? Math.min(v, s.maximum) : v;
    }
    case 'boolean':
      return false;
    default:
      return undefined;
  }
}

export class Factory {
  private n = 0;
  constructor(
    private readonly t: TestApp,
    private readonly token?: string,
    private readonly tenant = 'acme',
  ) {}

  /** A value for one schema; `x-ref` values are ids of records created on the spot. */
  async value(s: S): Promise<unknown> {
    const target = s['x-ref'];
    if (typeof target === 'string' && !target.startsWith('external:')) return (await this.create(target)).id;
    if (s.anyOf) return this.value(s.anyOf[0]);
    if (s.type === 'object') {
      const out: S = {};
      for (const k of s.required ?? []) out[k] = await this.value(s.properties[k]);
      return out;
    }
    if (s.type === 'array') {
      const count = s.minItems ?? 0;
      const out = [];
      for (let i = 0; i < count; i++) out.push(await this.value(s.items));
      return out;
    }
    return sampleScalar(s, this.n++);
  }

  /** A minimal valid body for a resource (conditional requirements satisfied by iterating). */
  async body(r: Resource, over: S = {}): Promise<S> {
    const body = await this.complete(r, { ...((await this.value(r.inputSchema)) as S), ...over });
    // Cross-record rules the schema cannot express: an exam registration is for its sitting's exam.
    if (r.def.slug === 'examRegistrations' && over.exam_id === undefined && typeof body.exam_offering_id === 'string') {
      const sitting = await this.t.call({ method: 'GET', url: `/examOfferings/${this.tenant}/${body.exam_offering_id}`, auth: this.token });
      if (sitting.statusCode === 200) body.exam_id = sitting.json().exam_id;
    }
    return body;
  }

  /** A valid body for `slug` without creating it. */
  async build(slug: string, over: S = {}): Promise<S> {
    const r = bySlug.get(slug);
    if (!r) throw new Error(`no resource ${slug}`);
    return this.body(r, over);
  }

  /** Adds what the body still lacks (conditional requirements) until it validates. */
  async complete(r: Resource, body: S): Promise<S> {
    for (let i = 0; i < 20; i++) {
      const errors = r.validate(body);
      if (!errors.length) return body;
      const missing = errors.find((e) => /required/.test(e.reason) && !e.field.includes('.'));
      if (!missing) throw new Error(`cannot build a valid ${r.def.slug}: ${JSON.stringify(errors)}`);
      body[missing.field] = await this.value((r.inputSchema.properties as S)[missing.field]);
    }
    throw new Error(`cannot build a valid ${r.def.slug}`);
  }

  async create(slug: string, over: S = {}): Promise<S> {
    const r = bySlug.get(slug);
    if (!r) throw new Error(`no resource ${slug}`);
    if (r.def.singleton) {
      const existing = await this.t.call({ method: 'GET', url: `/${slug}/${this.tenant}`, auth: this.token });
      if (existing.statusCode === 200) return existing.json();
    }
    const res = await this.t.call({ method: 'POST', url: `/${slug}/${this.tenant}`, payload: await this.body(r, over), auth: this.token });
    if (res.statusCode !== 201) throw new Error(`create ${slug}: ${res.statusCode} ${res.body}`);
    return res.json();
  }

  /**
   * The expiration rule set most tests use, "One year": anniversary terms of one year (mid-month
   * expirations allowed unless `midMonth` is false) and 30 days of grace; with `reinstatement`, 90
   * days to reinstate after the grace period, plus the reinstatement options given.
   */
  oneYearRuleSet(o: { midMonth?: boolean; reinstatement?: boolean | S } = {}): Promise<S> {
    return this.create('expirationRuleSets', {
      name: 'One year',
      default_expiration_options: {
        expiration_type: 'anniversary',
        anniversary_expiration_options: {
          term_length: 1,
          term_type: 'years',
          ...(o.midMonth === false ? {} : { allow_mid_month_expirations: true }),
        },
        grace_period: 30,
        ...(o.reinstatement
          ? {
              allow_reinstatement: true,
              reinstatement_options: { reinstatement_period: 90, ...(o.reinstatement === true ? {} : o.reinstatement) },
            }
          : {}),
      },
    });
  }
}
