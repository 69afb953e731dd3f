import type { ReadPreference } from '../store/replicas.js';
/** Who is acting, established by the auth plugin and passed to every service call. */
export interface Actor {
  /** The token's `sub`. */
  sub: string;
  /** The token's `jti`, when it has one. */
  tokenId?: string;
  /** Tenants the token may access; `'*'` means all. */
  tenants: string[] | '*';
  scopes: Set<string>;
}

export interface RequestContext {
  tenantId: string;
  actor: Actor;
  requestId: string;
  clientIp?: string;
  /** Where a read may be served from (set for GET and search requests; absent: the primary). */
  read?: ReadPreference;
  /** What is changing records, when not a plain API call (`activate`, `billing run`, …). */
  via?: string;
}

/** Stored on each record as `sys_last_security_context`: who changed it and how. */
export function securityContext(ctx: RequestContext, via: string) {
  return {
    user_id: ctx.actor.sub,
    ...(ctx.actor.tokenId ? { token_id: ctx.actor.tokenId } : {}),
    ...(ctx.clientIp ? { client_ip: ctx.clientIp } : {}),
    request_id: ctx.requestId,
    via: ctx.via ?? via,
  };
}
