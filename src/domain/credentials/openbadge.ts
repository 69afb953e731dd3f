/**
 * What a certification's portable credential says, as plain data: the Open Badges 3.0
 * `OpenBadgeCredential` (a W3C Verifiable Credential, data model 2.0) before it is signed, the term
 * it covers, and which of the tenant's status lists flag it today. Signing, keys and status list
 * encoding live in services/credentials/; nothing here reads the store or the clock.
 *
 * - The **programme is the achievement** (achievementType Certification), the **holder the subject**
 *   (an AchievementSubject with the holder's name and `licenseNumber`, the certificate number).
 * - **validFrom / validUntil** are the term's: from the renewal date (else the certification date) at
 *   00:00 UTC to the last day the term covers (the grace period end when set, as the certification's
 *   standing counts it) at 23:59:59 UTC; no validUntil for a certification that does not expire.
 * - Each credential has one index in the tenant's status lists and an entry in the `revocation` and in
 *   the `suspension` list at that index.
 */
import { createHash } from 'node:crypto';
import { lastCoveredDay, standing, type StandingFacts } from '../lifecycle/standing.js';

/** Entries per status list: the Bitstring Status List minimum (16 KB), for group privacy. */
export const STATUS_LIST_LENGTH = 131_072;
export const STATUS_PURPOSES = ['revocation', 'suspension'] as const;
export type StatusPurpose = (typeof STATUS_PURPOSES)[number];

/** The OB 3.0.3 context (with VC 2.0: 3.0.0–3.0.2 redefine protected terms). */
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const OB_V3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';

/** Which list and which bit of it a status index falls in. */
export const listPosition = (index: number) => ({ list: Math.floor(index / STATUS_LIST_LENGTH), bit: index % STATUS_LIST_LENGTH });

export interface CertificationFacts extends StandingFacts {
  number?: unknown;
  certification_date?: unknown;
  renewal_date?: unknown;
}

const day = (d: unknown): string | undefined => (typeof d === 'string' && /^\d{4}-\d{2}-\d{2}/.test(d) ? d.slice(0, 10) : undefined);

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The holder's name as a certificate or credential prints it: certificate_name, else name, else first and last name. */
export function holderName(c: Record<string, unknown>): string {
  return text(c.certificate_name) ?? text(c.name) ?? ([text(c.first_name), text(c.last_name)].filter(Boolean).join(' ') || '');
}

/**
 * Why a certification gets no new credential today (undefined: it gets one): it must have a
 * number, a term to start from, and be valid today (current or in grace).
 */
export function notIssuable(c: CertificationFacts, today: string): string | undefined {
  if (c.status === 'retired') return 'is retired: it gets no credential';
  if (typeof c.number !== 'number') return 'has no certificate number yet (it was never activated)';
  if (!termOf(c)) return 'has no certification or renewal date to start its term from';
  const s = standing(c, today);
  if (s !== 'current' && s !== 'in_grace') return `is not valid today (${String(c.status)}): no credential is issued`;
  return undefined;
}

/** The term a credential covers, from the certification's dates (null: no date to start it from). */
export function termOf(c: CertificationFacts): { validFrom: string; validUntil?: string } | null {
  const from = day(c.renewal_date) ?? day(c.certification_date);
  if (!from) return null;
  const last = lastCoveredDay(c);
  return { validFrom: `${from}T00:00:00Z`, ...(last ? { validUntil: `${last}T23:59:59Z` } : {}) };
}

export interface BadgeFacts {
  /** The credential's URL (its public address). */
  id: string;
  issuer: { id: string; name: string; url?: string };
  achievement: { id: string; name: string; description?: string; criteria?: string };
  /**
   * The holder: name, licence number and, when known, the e-mail address as a salted SHA-256
   * `identifier` (an OB 3.0 IdentityObject), so a verifier who knows the address can tie the
   * credential to its holder while the credential does not disclose it.
   */
  holder: { name: string; number: number; email?: { address: string; salt: string } };
  term: { validFrom: string; validUntil?: string };
  /** The status lists' URLs, by purpose, and the credential's index in them. */
  status: { lists: Record<StatusPurpose, string>; index: number };
}

/** The unsigned OpenBadgeCredential. */
export function openBadgeCredential(f: BadgeFacts): Record<string, unknown> {
  const bit = listPosition(f.status.index).bit;
  return {
    '@context': [VC_V2_CONTEXT, OB_V3_CONTEXT],
    id: f.id,
    type: ['VerifiableCredential', 'OpenBadgeCredential'],
    name: f.achievement.name,
    issuer: { id: f.issuer.id, type: ['Profile'], name: f.issuer.name, ...(f.issuer.url ? { url: f.issuer.url } : {}) },
    validFrom: f.term.validFrom,
    ...(f.term.validUntil ? { validUntil: f.term.validUntil } : {}),
    credentialSubject: {
      type: ['AchievementSubject'],
      name: f.holder.name,
      licenseNumber: String(f.holder.number),
      ...(f.holder.email ? { identifier: [identityObject(f.holder.email.address, f.holder.email.salt)] } : {}),
      achievement: {
        id: f.achievement.id,
        type: ['Achievement'],
        achievementType: 'Certification',
        name: f.achievement.name,
        description: f.achievement.description || `${f.achievement.name}, issued by ${f.issuer.name}`,
        criteria: { narrative: f.achievement.criteria || `Holds ${f.achievement.name} from ${f.issuer.name} in good standing.` },
      },
    },
    credentialStatus: STATUS_PURPOSES.map((purpose) => ({
      id: `${f.status.lists[purpose]}#${bit}`,
      type: 'BitstringStatusListEntry',
      statusPurpose: purpose,
      statusListIndex: String(bit),
      statusListCredential: f.status.lists[purpose],
    })),
  };
}

/** An OB 3.0 IdentityObject of an e-mail address: `sha256$` + hex of SHA-256(lower-cased address + salt). */
export function identityObject(address: string, salt: string) {
  const hash = createHash('sha256')
    .update(address.trim().toLowerCase() + salt)
    .digest('hex');
  return { type: 'IdentityObject', identityType: 'emailAddress', hashed: true, identityHash: `sha256$${hash}`, salt };
}

/**
 * The flags of a credential's status entries today, from its certification (undefined: deleted):
 * - **revocation** (never undone: the caller keeps it once set): the certification is retired
 *   (transferred, or ended for good) or gone, or this credential was replaced by a newer one;
 * - **suspension** (follows the certification): suspended, or not valid today (lapsed, inactive, due
 *   to lapse). Reinstatement clears it.
 */
export function statusFlags(c: CertificationFacts | undefined, today: string): Record<StatusPurpose, boolean> {
  if (!c || c.status === 'retired') return { revocation: true, suspension: false };
  if (c.status === 'suspended') return { revocation: false, suspension: true };
  const s = standing(c, today);
  return { revocation: false, suspension: !(s === 'current' || s === 'in_grace') };
}
