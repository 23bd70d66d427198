import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

/** Roles: a `viewer` reads; an `operator` also changes things (the write endpoints of the rollout issue). */
export type Role = 'viewer' | 'operator';

/** An API token as the config holds it: never the token, only its sha256. */
export interface TokenEntry {
  readonly name: string;
  readonly role: Role;
  /** Lowercase hex sha256 of the token. */
  readonly sha256: string;
}

/** Who a request is. */
export interface Caller {
  readonly name: string;
  readonly role: Role;
}

/** The sha256 (hex) the config stores for `token`. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The caller an `Authorization: Bearer <token>` header names, comparing hashes in constant time; throws a
 * 401 {@link ApiError} when the header is missing or the token unknown.
 */
export function authenticate(header: string | undefined, tokens: readonly TokenEntry[]): Caller {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1])
    throw new ApiError(401, 'AUTH_REQUIRED', 'this API needs a bearer token (Authorization: Bearer <token>)');
  const given = Buffer.from(tokenHash(match[1]), 'hex');
  let found: TokenEntry | undefined;
  for (const t of tokens) {
    const want = Buffer.from(t.sha256, 'hex');
    if (want.length === given.length && timingSafeEqual(want, given)) found = t;
  }
  if (!found) throw new ApiError(401, 'AUTH_INVALID', 'the bearer token is not one this controller knows');
  return { name: found.name, role: found.role };
}
