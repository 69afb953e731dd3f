import crypto from 'node:crypto';
import { issue } from '@digitalbazaar/vc';
import { DataIntegrityProof } from '@digitalbazaar/data-integrity';
import { cryptosuite as eddsaRdfc2022 } from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import { createCredential as createStatusListCredential, createList } from '@digitalbazaar/vc-bitstring-status-list';
import jsigs from 'jsonld-signatures';
import { AppError, notFound } from '../../core/errors.js';
import type { RequestContext } from '../../core/context.js';
import {
  type CertificationFacts,
  STATUS_LIST_LENGTH,
  STATUS_PURPOSES,
  type StatusPurpose,
  holderName,
  listPosition,
  notIssuable,
  openBadgeCredential,
  statusFlags,
  termOf,
} from '../../domain/credentials/openbadge.js';
import { enqueueMail } from '../../mail/outbox.js';
import { renderMessage, TemplateError, type EmailTemplate } from '../../mail/render.js';
import {
  type CredentialRow,
  credentialById,
  flagCandidates,
  insertCredential,
  latestCredential,
  maxStatusIndex,
  advanceCounter,
  listKeyId,
  newestCredentialOf,
  putStatusList,
  revokeCredentials,
  statusList,
} from '../../store/credentials.js';
import { nextValue } from '../../store/counters.js';
import type { AppServices } from '../../resources/kit/context.js';
import { DEFAULT_MAIL_FROM, noticeVars } from '../notices.js';
import { type DocumentLoader, didDocument, didWeb, documentLoader } from './jsonld.js';
import { type IssuerKey, IssuerKeys } from './keys.js';

/**
 * Portable credentials: each certification term as an Open Badges 3.0 `OpenBadgeCredential`, signed
 * with the tenant's Ed25519 key as a Data Integrity proof (cryptosuite eddsa-rdfc-2022), with an
 * entry in the tenant's `revocation` and `suspension` Bitstring Status Lists. What the credential
 * says and which bits are set is decided in domain/credentials/openbadge.ts; here: keys, DIDs,
 * signing, and the store.
 *
 * - **Issued once per term and content**: the credential of a certification's current term is made
 *   the first time it is asked for (GET, e-mail) and stored; the same term and content answer the
 *   same credential. A new term (renewal, reinstatement) or changed content (the holder's name, the
 *   programme's name, the issuer) issues a new one, which revokes the one it replaces.
 * - **Live status**: a status list is computed when it is fetched from the tenant's credentials and
 *   their certifications' standing today, and re-signed only when its bits changed since it was last
 *   signed; so a verifier always sees today's standing (a suspension, a reinstatement, a lapse, a
 *   retirement), and an unchanged list is not signed again. Revocation is never undone.
 * - **Issuer**: `did:web:{host}:issuers:{tenantId}` when PUBLIC_BASE_URL is set (the DID document at
 *   /issuers/{tenantId}/did.json lists every key the tenant ever had), else `did:key` of the key.
 *   URLs in credentials (the credential's id, the status lists) are under PUBLIC_BASE_URL, else under
 *   the address of the request that issued them.
 */
export interface VerificationCheck {
  ok: boolean;
  reason?: string;
}
export interface Verification {
  verified: boolean;
  checks: {
    signature: VerificationCheck;
    issuer: VerificationCheck;
    dates: VerificationCheck;
    status: VerificationCheck & Partial<Record<StatusPurpose, boolean>>;
  };
  credential_id?: string;
}

type Rec = Record<string, unknown>;
const STATUS_COUNTER = 'credentials.status_index';
const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export class Credentials {
  readonly keys: IssuerKeys;

  constructor(
    private readonly s: AppServices,
    private readonly opts: { publicBaseUrl?: string; keySecret?: string; dataDir: string },
  ) {
    this.keys = new IssuerKeys(s.store, s.clock, { secret: opts.keySecret, dataDir: opts.dataDir });
  }

  /** Where this server's URLs start: PUBLIC_BASE_URL, else the request's origin. */
  base(origin: string): string {
    return (this.opts.publicBaseUrl ?? origin).replace(/\/+$/, '');
  }

  private today() {
    return this.s.clock.now().toISOString().slice(0, 10);
  }

  /** The tenant's issuer DID for a key. */
  issuerDid(tenantId: string, key: { publicKeyMultibase: string }): string {
    return this.opts.publicBaseUrl ? didWeb(this.opts.publicBaseUrl, tenantId) : `did:key:${key.publicKeyMultibase}`;
  }

  /** Every DID the tenant issues or issued under: did:key of each key, and its did:web when configured. */
  private async knownDids(tenantId: string): Promise<Set<string>> {
    const keys = await this.keys.list(tenantId);
    const dids = new Set(keys.map((k) => `did:key:${k.publicKeyMultibase}`));
    if (this.opts.publicBaseUrl) dids.add(didWeb(this.opts.publicBaseUrl, tenantId));
    return dids;
  }

  /** The tenant's did:web document (404 without PUBLIC_BASE_URL: the issuer is a did:key then). */
  async didDocument(tenantId: string) {
    if (!this.opts.publicBaseUrl) throw new AppError('not_found', 'no did:web without PUBLIC_BASE_URL: the issuers are did:key');
    await this.keys.active(tenantId);
    return didDocument(didWeb(this.opts.publicBaseUrl, tenantId), await this.keys.list(tenantId));
  }

  private async signer(tenantId: string, key: IssuerKey) {
    const pair = await this.keys.pair(tenantId, key.id);
    const did = this.issuerDid(tenantId, key);
    const inner = pair.signer();
    const signer = { algorithm: inner.algorithm, id: `${did}#${key.publicKeyMultibase}`, sign: (x: { data: Uint8Array }) => inner.sign(x) };
    return { did, suite: new DataIntegrityProof({ signer, cryptosuite: eddsaRdfc2022, date: this.s.clock.now() }) };
  }

  /** What this server publishes, for its own document loader: the tenant's did:web document and status lists. */
  private own(tenantId: string): (url: string) => Promise<Rec | undefined> {
    return async (url) => {
      if (this.opts.publicBaseUrl && url.split('#')[0] === didWeb(this.opts.publicBaseUrl, tenantId)) {
        const doc = await this.didDocument(tenantId);
        if (!url.includes('#')) return doc;
        const vm = doc.verificationMethod.find((m) => m.id === url);
        return vm ? { '@context': doc['@context'], ...vm } : undefined;
      }
      return undefined;
    };
  }

  private loader(tenantId: string): DocumentLoader {
    return documentLoader(this.own(tenantId));
  }

  // ---- issuing ------------------------------------------------------------------------------------

  private async facts(tenantId: string, cert: Rec) {
    const db = this.s.store.db;
    const program = await this.s.resource('programs').table.get(db, tenantId, String(cert.program_id));
    const settings = await this.s.resource('settings').table.get(db, tenantId, tenantId);
    const holder = holderName(cert);
    const email = text(cert.email_address);
    return {
      holder: { name: holder, number: Number(cert.number), ...(email ? { email } : {}) },
      achievement: {
        // a name, not an address (no page serves a programme): stable under any base URL
        id: `urn:accredit:${encodeURIComponent(tenantId)}:programs:${encodeURIComponent(String(cert.program_id))}`,
        name: text(program?.name) ?? 'Certification',
        ...(text(program?.description) ? { description: text(program?.description) } : {}),
      },
      board: text(settings?.board_name) ?? tenantId,
      term: termOf(cert as CertificationFacts),
    };
  }

  private listUrl(base: string, tenantId: string, purpose: StatusPurpose, list: number) {
    return `${base}/credentials/${encodeURIComponent(tenantId)}/status/${purpose}/${list}`;
  }

  /**
   * The credential of a certification's current term: the stored one, or a new one signed now. A
   * certification that is not valid today gets no new credential: its latest one is answered (its
   * status says why it is not valid), or a 409 when it never had one.
   */
  async current(tenantId: string, certificationId: string, origin: string): Promise<CredentialRow> {
    const db = this.s.store.db;
    const cert = await this.s.resource('certifications').table.get(db, tenantId, certificationId);
    if (!cert) throw notFound('certification', certificationId);
    const base = this.base(origin);
    const f = await this.facts(tenantId, cert);
    // what decides whether the stored credential still says the truth (URLs aside: a later request
    // from another address answers the same credential)
    const hash = crypto
      .createHash('sha256')
      .update(
        JSON.stringify([f.holder, f.achievement.name, f.achievement.description ?? '', f.board, f.term, this.opts.publicBaseUrl ?? '']),
      )
      .digest('base64url');
    const existing = await latestCredential(db, tenantId, certificationId, hash);
    if (existing && !existing.revoked_at) return existing;
    const why = notIssuable(cert as CertificationFacts, this.today());
    if (why) {
      const newest = existing ?? (await newestCredentialOf(db, tenantId, certificationId));
      if (newest) return newest;
      throw new AppError('conflict', `certification ${certificationId} ${why}`);
    }
    // the status index: taken in a short transaction of its own (a gap when the insert below loses a race)
    const index = await this.s.store.transaction((tx) => nextValue(tx, tenantId, STATUS_COUNTER, 0));
    const key = await this.keys.active(tenantId);
    const { did, suite } = await this.signer(tenantId, key);
    const id = crypto.randomUUID();
    const { list } = listPosition(index);
    const unsigned = openBadgeCredential({
      id: `${base}/credentials/${encodeURIComponent(tenantId)}/${id}`,
      issuer: { id: did, name: f.board, ...(this.opts.publicBaseUrl ? { url: this.opts.publicBaseUrl } : {}) },
      achievement: f.achievement,
      holder: {
        name: f.holder.name,
        number: f.holder.number,
        ...(f.holder.email ? { email: { address: f.holder.email, salt: crypto.randomBytes(12).toString('base64url') } } : {}),
      },
      term: f.term!,
      status: {
        lists: {
          revocation: this.listUrl(base, tenantId, 'revocation', list),
          suspension: this.listUrl(base, tenantId, 'suspension', list),
        },
        index,
      },
    });
    const document = await issue({ credential: unsigned, suite, documentLoader: this.loader(tenantId) });
    const row: CredentialRow = {
      tenant_id: tenantId,
      id,
      certification_id: certificationId,
      content_hash: hash,
      revision: existing ? existing.revision + 1 : 0,
      status_index: index,
      issuer: did,
      key_id: key.id,
      issued_at: this.s.clock.now().toISOString(),
      revoked_at: null,
      document,
    };
    const stored = await this.s.store.transaction((tx) => insertCredential(tx, row));
    if (stored) return row;
    const winner = await latestCredential(db, tenantId, certificationId, hash);
    if (!winner) throw new Error('credential insert lost a race, and the winner is not there');
    return winner;
  }

  /** A credential by id, as issued (public: the credential's own URL). */
  async hosted(tenantId: string, id: string): Promise<Rec> {
    const row = await credentialById(this.s.store.db, tenantId, id);
    if (!row) throw notFound('credential', id);
    return row.document;
  }

  /**
   * Rotates the tenant's issuer key. A status list is signed by one key, the key of the credentials
   * in it (with did:key the issuer changes with the key, and a verifier expects a list's issuer to be
   * its credentials' issuer): the credentials of the new key start in a fresh list.
   */
  rotate(tenantId: string): Promise<IssuerKey> {
    return this.keys.rotate(tenantId, async (db) => {
      const next = (Math.floor((await maxStatusIndex(db, tenantId)) / STATUS_LIST_LENGTH) + 1) * STATUS_LIST_LENGTH;
      await advanceCounter(db, tenantId, STATUS_COUNTER, next);
    });
  }

  // ---- status lists -------------------------------------------------------------------------------

  /** One status list as signed for today's standing (re-signed here when its bits changed). */
  async statusList(tenantId: string, purpose: StatusPurpose, list: number, origin: string): Promise<Rec> {
    const db = this.s.store.db;
    if (list * STATUS_LIST_LENGTH > (await maxStatusIndex(db, tenantId)) && list !== 0) throw notFound('status list', `${purpose}/${list}`);
    const today = this.today();
    const range = { from: list * STATUS_LIST_LENGTH, to: (list + 1) * STATUS_LIST_LENGTH };
    const candidates = await flagCandidates(db, this.s.resource('certifications').table.spec, tenantId, range, today);
    const set: number[] = [];
    const newlyRevoked: string[] = [];
    for (const c of candidates) {
      const flags = statusFlags(c.certification ?? undefined, today);
      if (flags.revocation && !c.revoked_at) newlyRevoked.push(c.id);
      const on = purpose === 'revocation' ? flags.revocation || c.revoked_at !== null : flags.suspension;
      if (on) set.push(c.status_index - range.from);
    }
    // revocation is for good: a certification that comes back later does not clear it
    if (newlyRevoked.length)
      await this.s.store.transaction((tx) => revokeCredentials(tx, tenantId, newlyRevoked, this.s.clock.now().toISOString()));
    const id = this.listUrl(this.base(origin), tenantId, purpose, list);
    const bitsHash = crypto
      .createHash('sha256')
      .update(`${id}\n${set.join(',')}`)
      .digest('base64url');
    const stored = await statusList(db, tenantId, purpose, list);
    if (stored?.bits_hash === bitsHash) return stored.document;
    const bits = await createList({ length: STATUS_LIST_LENGTH });
    for (const i of set) bits.setStatus(i, true);
    const credential = await createStatusListCredential({ id, list: bits, statusPurpose: purpose });
    const listKey = await listKeyId(db, tenantId, range);
    const key = (listKey ? await this.keys.byId(tenantId, listKey) : undefined) ?? (await this.keys.active(tenantId));
    const { did, suite } = await this.signer(tenantId, key);
    credential.issuer = did;
    credential.validFrom = this.s.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    const document = await issue({ credential, suite, documentLoader: this.loader(tenantId) });
    await putStatusList(db, {
      tenant_id: tenantId,
      purpose,
      list,
      bits_hash: bitsHash,
      document,
      updated_at: this.s.clock.now().toISOString(),
    });
    return document;
  }

  // ---- verifying ----------------------------------------------------------------------------------

  /**
   * Checks a presented credential for the tenant, each check on its own: the proof (signature over
   * the document as presented, by a key its verification method names), the issuer (one of this
   * tenant's DIDs, and the proof made by the issuer's key), the dates (validFrom and validUntil around
   * now) and the status (its entries in this tenant's lists, today).
   */
  async verify(tenantId: string, presented: unknown): Promise<Verification> {
    const vc = (presented && typeof presented === 'object' ? presented : {}) as Rec;
    const proof = (Array.isArray(vc.proof) ? vc.proof[0] : vc.proof) as Rec | undefined;
    const issuerId = typeof vc.issuer === 'string' ? vc.issuer : text((vc.issuer as Rec | undefined)?.id);
    const vm = text(proof?.verificationMethod);

    let signature: VerificationCheck;
    if (!proof) signature = { ok: false, reason: 'the credential has no proof' };
    else if (proof.cryptosuite !== 'eddsa-rdfc-2022')
      signature = { ok: false, reason: `unsupported cryptosuite ${String(proof.cryptosuite)}` };
    else {
      try {
        const r = await jsigs.verify(structuredClone(vc), {
          suite: new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 }),
          purpose: new jsigs.purposes.AssertionProofPurpose(),
          documentLoader: this.loader(tenantId),
        });
        signature = r.verified ? { ok: true } : { ok: false, reason: firstError(r.error) ?? 'the proof does not verify' };
      } catch (e) {
        signature = { ok: false, reason: (e as Error).message };
      }
    }

    const dids = await this.knownDids(tenantId);
    const issuer: VerificationCheck = !issuerId
      ? { ok: false, reason: 'the credential names no issuer' }
      : !dids.has(issuerId)
        ? { ok: false, reason: `${issuerId} is not an issuer of ${tenantId} on this server` }
        : !vm?.startsWith(`${issuerId}#`)
          ? { ok: false, reason: 'the proof was not made by a key of the issuer' }
          : { ok: true };

    const now = this.s.clock.now().getTime();
    const from = typeof vc.validFrom === 'string' ? Date.parse(vc.validFrom) : Number.NaN;
    const until = typeof vc.validUntil === 'string' ? Date.parse(vc.validUntil) : undefined;
    const dates: VerificationCheck = Number.isNaN(from)
      ? { ok: false, reason: 'validFrom is missing or not a date' }
      : now < from
        ? { ok: false, reason: `not valid before ${vc.validFrom}` }
        : until !== undefined && (Number.isNaN(until) || now > until)
          ? { ok: false, reason: `expired: valid until ${vc.validUntil}` }
          : { ok: true };

    const status = await this.statusOf(tenantId, vc);
    const id = text(vc.id);
    return {
      verified: signature.ok && issuer.ok && dates.ok && status.ok,
      checks: { signature, issuer, dates, status },
      ...(id ? { credential_id: id } : {}),
    };
  }

  /** The presented credential's entries, read in this tenant's lists as they stand today. */
  private async statusOf(tenantId: string, vc: Rec): Promise<Verification['checks']['status']> {
    const listed: unknown[] = Array.isArray(vc.credentialStatus) ? vc.credentialStatus : vc.credentialStatus ? [vc.credentialStatus] : [];
    if (!listed.length) return { ok: false, reason: 'the credential has no status entry' };
    if (listed.some((e) => !e || typeof e !== 'object' || Array.isArray(e)))
      return { ok: false, reason: 'a status entry is not an object' };
    const entries = listed as Rec[];
    const out: Partial<Record<StatusPurpose, boolean>> = {};
    const prefix = `/credentials/${encodeURIComponent(tenantId)}/status/`;
    for (const e of entries) {
      const purpose = e.statusPurpose as StatusPurpose;
      let path: string;
      try {
        path = new URL(String(e.statusListCredential)).pathname;
      } catch {
        return { ok: false, reason: `status list ${String(e.statusListCredential)} is not a URL` };
      }
      const m = path.startsWith(prefix) ? /^(revocation|suspension)\/(\d{1,6})$/.exec(path.slice(prefix.length)) : null;
      const bit = Number(e.statusListIndex);
      if (!m || m[1] !== purpose || !STATUS_PURPOSES.includes(purpose) || !Number.isInteger(bit) || bit < 0 || bit >= STATUS_LIST_LENGTH)
        return { ok: false, reason: `status entry ${String(e.id)} is not one of ${tenantId}'s lists` };
      const index = Number(m[2]) * STATUS_LIST_LENGTH + bit;
      const candidates = await flagCandidates(
        this.s.store.db,
        this.s.resource('certifications').table.spec,
        tenantId,
        { from: index, to: index + 1 },
        this.today(),
      );
      const c = candidates[0];
      const flags = c ? statusFlags(c.certification ?? undefined, this.today()) : { revocation: false, suspension: false };
      out[purpose] = purpose === 'revocation' ? flags.revocation || (c?.revoked_at ?? null) !== null : flags.suspension;
    }
    const on = STATUS_PURPOSES.filter((p) => out[p]);
    return on.length
      ? { ok: false, reason: `the credential is ${on.map((p) => (p === 'revocation' ? 'revoked' : 'suspended')).join(' and ')}`, ...out }
      : { ok: true, ...out };
  }

  // ---- e-mail -------------------------------------------------------------------------------------

  /**
   * E-mails a certification's current credential to its holder (the certification's email_address,
   * or `to`), attached as JSON: the named notice's e-mail, else a short default letter.
   */
  async email(ctx: RequestContext, certificationId: string, origin: string, body: { notice_id?: string; email_address?: string }) {
    const tenantId = ctx.tenantId;
    const db = this.s.store.db;
    const row = await this.current(tenantId, certificationId, origin);
    const cert = (await this.s.resource('certifications').table.get(db, tenantId, certificationId))!;
    const to = text(body.email_address) ?? text(cert.email_address);
    if (!to) throw new AppError('conflict', `certification ${certificationId} has no email_address: give one in email_address`);
    const program = await this.s.resource('programs').table.get(db, tenantId, String(cert.program_id));
    let template: EmailTemplate = {
      subject: 'Your digital credential: {{program_name}}',
      body: 'Dear {{name}},\n\nAttached is your digital credential for {{program_name}} (number {{number}}), an Open Badges 3.0 verifiable credential. Add it to a digital wallet or share it; anyone can check it.\n',
    } as EmailTemplate;
    if (body.notice_id) {
      const notice = await this.s.resource('notices').table.get(db, tenantId, body.notice_id);
      if (!notice)
        throw new AppError('validation', `notice ${body.notice_id} not found`, { errors: [{ field: 'notice_id', reason: 'not found' }] });
      template = (notice.email ?? {}) as EmailTemplate;
    }
    const from = this.s.mailFrom || DEFAULT_MAIL_FROM;
    let mail: ReturnType<typeof renderMessage>;
    try {
      mail = renderMessage(template, noticeVars({ certification: cert, program: program ?? undefined }), { from, to });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      throw new AppError('conflict', `notice ${body.notice_id}: its e-mail does not render (${e.message})`, {
        errors: [{ field: 'notice_id', reason: `its ${e.field} does not render: ${e.reason}` }],
      });
    }
    mail.attachments = [
      {
        filename: `credential-${String(cert.number)}.json`,
        content: JSON.stringify(row.document, null, 2),
        contentType: 'application/vc+ld+json',
      },
    ];
    const key = `credentials/${row.id}/${crypto.randomUUID()}`;
    await this.s.store.transaction((tx) => enqueueMail(tx, tenantId, key, mail, `certifications/${certificationId}`, this.s.clock.now()));
    return { queued: true, to, credential_id: String(row.document.id) };
  }
}

function firstError(e: unknown): string | undefined {
  const err = e as { errors?: { message?: string }[]; message?: string } | undefined;
  return err?.errors?.[0]?.message ?? err?.message;
}
