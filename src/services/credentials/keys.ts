import crypto from 'node:crypto';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import type { Clock } from '../../core/clock.js';
import { dataDirSecret } from '../../core/secret-file.js';
import { addIssuerKey, issuerKeys, type IssuerKeyRow } from '../../store/credentials.js';
import type { Db, Store } from '../../store/store.js';

/**
 * Each tenant's Ed25519 issuer keys. A key pair is generated on first use; its secret half is stored
 * encrypted (AES-256-GCM under a key derived with HKDF-SHA-256 from CREDENTIAL_KEY_SECRET and bound to
 * the tenant, so a row copied to another tenant does not decrypt) and never leaves this module.
 * Rotation makes a new key the active one; retired keys stay, so credentials they signed keep
 * verifying (their did:key is self-contained; the did:web document lists every key).
 */
export const KEY_SECRET_FILE = 'credential-key-secret';

export interface IssuerKey {
  id: string;
  publicKeyMultibase: string;
  createdAt: string;
  retiredAt: string | null;
}

/** A key pair of @digitalbazaar/ed25519-multikey (its types are not published). */
export interface KeyPair {
  id?: string;
  controller?: string;
  publicKeyMultibase: string;
  signer(): { algorithm: string; id: string; sign(x: { data: Uint8Array }): Promise<Uint8Array> };
}

export class IssuerKeys {
  private secret?: Buffer;
  private readonly pairs = new Map<string, Promise<KeyPair>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly opts: { secret?: string; dataDir: string },
  ) {}

  /** The secret the keys are encrypted under, read once (the data folder's in development mode). */
  private master(): Buffer {
    this.secret ??= Buffer.from(this.opts.secret ?? dataDirSecret(this.opts.dataDir, KEY_SECRET_FILE).secret, 'utf8');
    return this.secret;
  }

  private aesKey(tenantId: string): Buffer {
    return Buffer.from(crypto.hkdfSync('sha256', this.master(), 'accredit issuer keys', `tenant:${tenantId}`, 32));
  }

  private seal(tenantId: string, plain: string): string {
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', this.aesKey(tenantId), iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${body.toString('base64url')}`;
  }

  private open(tenantId: string, sealed: string): string {
    const [v, iv, tag, body] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || !body) throw new Error('issuer key: unknown encryption format');
    const d = crypto.createDecipheriv('aes-256-gcm', this.aesKey(tenantId), Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    try {
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
    } catch {
      throw new Error('issuer key: cannot decrypt (CREDENTIAL_KEY_SECRET differs from the one it was stored under)');
    }
  }

  /** The tenant's keys, newest first: public halves only. */
  async list(tenantId: string): Promise<IssuerKey[]> {
    return (await issuerKeys(this.store.db, tenantId)).map(publicView);
  }

  private async generate(tenantId: string): Promise<IssuerKeyRow> {
    const pair = await Ed25519Multikey.generate();
    const exported = await pair.export({ publicKey: true, secretKey: true });
    return {
      tenant_id: tenantId,
      id: crypto.randomUUID(),
      public_key_multibase: String(exported.publicKeyMultibase),
      secret_key: this.seal(tenantId, String(exported.secretKeyMultibase)),
      created_at: this.clock.now().toISOString(),
      retired_at: null,
    };
  }

  /** The active key, made on first use (concurrent first uses agree on one). */
  async active(tenantId: string): Promise<IssuerKey> {
    const current = (await issuerKeys(this.store.db, tenantId)).find((k) => k.retired_at === null);
    if (current) return publicView(current);
    const row = await this.generate(tenantId);
    await this.store.transaction((db) => addIssuerKey(db, row, true));
    const after = (await issuerKeys(this.store.db, tenantId)).find((k) => k.retired_at === null);
    if (!after) throw new Error(`tenant ${tenantId} has no active issuer key`);
    return publicView(after);
  }

  /**
   * A new active key; the one before is retired (it still verifies what it signed). `alongside` runs
   * in the same transaction.
   */
  async rotate(tenantId: string, alongside?: (db: Db) => Promise<void>): Promise<IssuerKey> {
    const row = await this.generate(tenantId);
    await this.store.transaction(async (db) => {
      await addIssuerKey(db, row, false);
      await alongside?.(db);
    });
    return publicView(row);
  }

  /** One of the tenant's keys (public half), by id. */
  async byId(tenantId: string, keyId: string): Promise<IssuerKey | undefined> {
    const row = (await issuerKeys(this.store.db, tenantId)).find((r) => r.id === keyId);
    return row ? publicView(row) : undefined;
  }

  /** The key pair (secret half decrypted) of one of the tenant's keys, for signing; cached per key. */
  pair(tenantId: string, keyId: string): Promise<KeyPair> {
    const k = `${tenantId}\u0000${keyId}`;
    let p = this.pairs.get(k);
    if (!p) {
      p = (async () => {
        const row = (await issuerKeys(this.store.db, tenantId)).find((r) => r.id === keyId);
        if (!row) throw new Error(`issuer key ${keyId} not found`);
        return (await Ed25519Multikey.from({
          publicKeyMultibase: row.public_key_multibase,
          secretKeyMultibase: this.open(tenantId, row.secret_key),
        })) as KeyPair;
      })();
      p.catch(() => this.pairs.delete(k));
      this.pairs.set(k, p);
    }
    return p;
  }
}

const publicView = (r: IssuerKeyRow): IssuerKey => ({
  id: r.id,
  publicKeyMultibase: r.public_key_multibase,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
});
