/**
 * Credentials shared by the API and the workers: the scope vocabulary, API keys as configured data
 * (name + scopes + one or more secrets, so a key can be rotated with both secrets valid for a
 * while), and digest comparison. Secrets are held only as SHA-256 digests and compared with
 * timingSafeEqual against every candidate, so neither the comparison's timing nor a memory dump
 * reveals a usable key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * What a key may do. `read` < `write` < `admin` (each includes the ones before it); `alerts:write`
 * (the Alertmanager webhook) and `metrics:read` (the scrape endpoints) stand alone.
 */
export const SCOPES = ['read', 'write', 'admin', 'alerts:write', 'metrics:read'] as const;
export type Scope = (typeof SCOPES)[number];

const INCLUDES: Record<Scope, readonly Scope[]> = {
  read: ['read'],
  write: ['write', 'read'],
  admin: ['admin', 'write', 'read'],
  'alerts:write': ['alerts:write'],
  'metrics:read': ['metrics:read'],
};

/** True when a key holding `held` may use a route that requires `required`. */
export function grants(held: readonly Scope[], required: Scope): boolean {
  return held.some((s) => INCLUDES[s].includes(required));
}

/** Names the API itself uses in logs and metrics (scrape token, auth disabled, no valid key). */
const RESERVED_NAMES = ['scrape', 'anonymous', 'unknown'];

const sha256Secret = /^sha256:[0-9a-fA-F]{64}$/;
/** A secret as configured: the raw key (16+ characters) or `sha256:<64 hex digits>` of it. */
export const secretSchema = z
  .string()
  .refine((s) => (s.startsWith('sha256:') ? sha256Secret.test(s) : s.length >= 16), {
    message: 'a key must be 16+ characters, or sha256: followed by 64 hex digits',
  });

export const apiKeyEntrySchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 of a-z 0-9 . _ - (it is logged and a metric label)')
      .refine((n) => !RESERVED_NAMES.includes(n), { message: `${RESERVED_NAMES.join(', ')} are reserved names` }),
    scopes: z.array(z.enum(SCOPES)).min(1),
    // Two (or more) secrets under one name: the old and the new key during a rotation.
    keys: z.array(secretSchema).min(1).max(4),
  })
  .strict()
  .refine((k) => !k.scopes.includes('alerts:write') || k.scopes.length === 1, {
    message: 'an alerts:write key may hold no other scope (it can only post alerts)',
  });

export type ApiKeyEntry = z.output<typeof apiKeyEntrySchema>;

export const apiKeyListSchema = z.array(apiKeyEntrySchema).superRefine((list, ctx) => {
  const names = new Set<string>();
  const secrets = new Set<string>();
  for (const k of list) {
    if (names.has(k.name)) ctx.addIssue({ code: 'custom', message: `key name "${k.name}" is used twice` });
    names.add(k.name);
    for (const s of k.keys) {
      const d = secretDigest(s).toString('hex');
      if (secrets.has(d)) ctx.addIssue({ code: 'custom', message: `key "${k.name}" repeats a secret of another key` });
      secrets.add(d);
    }
  }
});

export const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The digest a configured secret stands for (raw secrets are hashed, sha256: ones decoded). */
export function secretDigest(secret: string): Buffer {
  return secret.startsWith('sha256:') ? Buffer.from(secret.slice(7), 'hex') : sha256(secret);
}

export interface Credential<T> {
  digest: Buffer;
  value: T;
}

/**
 * Finds the credential whose digest equals the presented secret's. Every candidate is compared
 * (no early return), so the time taken does not depend on which one matched or how many bytes did.
 */
export function findCredential<T>(presented: string, candidates: readonly Credential<T>[]): T | undefined {
  const d = sha256(presented);
  let found: T | undefined;
  for (const c of candidates) if (timingSafeEqual(d, c.digest)) found = c.value;
  return found;
}

/**
 * The secret in an `Authorization: Bearer <secret>` header (scheme case-insensitive, surrounding
 * whitespace ignored) or an `X-API-Key` header.
 */
export function presentedSecret(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header.trim().length > 0) return header.trim();
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  return undefined;
}

/** Scrape tokens as digests (the workers and the API accept any of them: rotation). */
export function scrapeTokenCredentials(tokens: readonly string[]): Credential<'scrape'>[] {
  return tokens.map((t) => ({ digest: secretDigest(t), value: 'scrape' as const }));
}
