/**
 * Credential material of the coordinator: API tokens, the one-time setup token, recovery codes,
 * and how each is hashed for storage (issue 6 "Accounts": "no token or code is ever stored or
 * logged in clear").
 *
 * Two hashes, chosen by the entropy of what they protect:
 * - **tokens and codes** are generated here from a CSPRNG (256 bits for tokens, ≥ 60 bits for a
 *   recovery code), so guessing is infeasible whatever the hash speed: a single fast SHA-256 is the
 *   right tool and keeps every authenticated request cheap. Recovery codes are hashed with their
 *   account id prepended, so one brute-force run over a stolen database cannot attack all
 *   accounts' codes at once.
 * - **passwords** are chosen by people and are guessable, so they get scrypt (N = 2¹⁵, r = 8,
 *   p = 1, RFC 7914) with a per-password salt; the parameters are written into the encoding so they
 *   can be raised later without breaking old records.
 *
 * Comparisons of hashes are constant-time ({@link safeEqualHex}, `timingSafeEqual`).
 * @module
 */
import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import type { BinaryLike, ScryptOptions } from 'node:crypto';

/** Length of a token id in hex characters (6 random bytes: public, names the token). */
export const TOKEN_ID_HEX = 12;

/** Random bytes in a token's secret part. */
export const TOKEN_SECRET_BYTES = 32;

/** `mpc_<12 hex id>_<43 base64url chars>`. */
const TOKEN_RE = /^mpc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A setup token: `setup_` + 32 random bytes base64url. */
const SETUP_RE = /^setup_[A-Za-z0-9_-]{43}$/;

/**
 * Recovery-code alphabet: Crockford's base32 in lower case — digits and letters without `i`, `l`,
 * `o`, `u`, so nothing reads as something else. 32 symbols → 5 bits each, 12 symbols → 60 bits.
 */
export const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Symbols per recovery code (three groups of four). */
const RECOVERY_SYMBOLS = 12;

/** scrypt cost of new password hashes: N = 2^15, r = 8, p = 1 (≈ 32 MiB, ≈ 0.1 s). */
export const SCRYPT_PARAMS = Object.freeze({ logN: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;

/**
 * Bounds on the parameters accepted when *verifying*: a corrupt record must not make one login
 * allocate gigabytes or run for minutes. 128·N·r bytes of scrypt memory at most 256 MiB.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * A new API token and its public id.
 * @returns `{ token: 'mpc_<id>_<secret>', id }`; show `token` once, store only `hashSecret(token)`
 * @example const { token, id } = newToken(); // token 'mpc_3fa2…_Qm9…', id '3fa2…'
 */
export function newToken(): { token: string; id: string } {
  const id = randomBytes(TOKEN_ID_HEX / 2).toString('hex');
  const secret = randomBytes(TOKEN_SECRET_BYTES).toString('base64url');
  return { token: `mpc_${id}_${secret}`, id };
}

/**
 * Split a presented token into its id and secret, or `undefined` if it is not token-shaped.
 * @example parseToken('mpc_0123456789ab_…')?.id // '0123456789ab'
 */
export function parseToken(token: unknown): { id: string; secret: string } | undefined {
  if (typeof token !== 'string') return undefined;
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/**
 * Hex SHA-256 of a high-entropy secret (token, setup token, recovery code). Not for passwords:
 * use {@link hashPassword}.
 * @example hashSecret('abc') // 'ba7816bf…'
 */
export function hashSecret(s: string): string {
  if (typeof s !== 'string') throw new TypeError('hashSecret: expected a string');
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/**
 * Constant-time equality of two hex digests. Different lengths (or non-hex input) are unequal;
 * length is not secret here, every digest compared has the same length.
 * @example safeEqualHex(hashSecret(t), stored) // true when t is the token
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return false;
  if (a.length !== b.length || a.length % 2 !== 0) return false;
  if (!/^[0-9a-f]*$/i.test(a) || !/^[0-9a-f]*$/i.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * A new one-time setup token (printed once at first start, burnt by the bootstrap).
 * @example newSetupToken() // 'setup_kq3…'
 */
export function newSetupToken(): string {
  return `setup_${randomBytes(32).toString('base64url')}`;
}

/** Whether `s` has the shape of a setup token. */
export function isSetupToken(s: unknown): s is string {
  return typeof s === 'string' && SETUP_RE.test(s);
}

/**
 * `n` fresh recovery codes `xxxx-xxxx-xxxx`, each 60 bits from {@link RECOVERY_ALPHABET}.
 * @param n - how many (1..100, default 10)
 * @example newRecoveryCodes(2) // ['7k2m-q0zd-9hrt', 'c4vw-1npx-e8sa']
 */
export function newRecoveryCodes(n = 10): string[] {
  if (!Number.isSafeInteger(n) || n < 1 || n > 100) {
    throw new RangeError('newRecoveryCodes: n must be an integer in 1..100');
  }
  return Array.from({ length: n }, () => {
    // randomInt is uniform (rejection sampling), so every symbol carries exactly 5 bits.
    let s = '';
    for (let i = 0; i < RECOVERY_SYMBOLS; i++) s += RECOVERY_ALPHABET[randomInt(32)];
    return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
  });
}

/**
 * The canonical form of a typed recovery code, or `undefined` if it cannot be one. Forgiving of
 * how people copy codes: case, spaces and dashes are ignored, and `o`/`i`/`l` read as `0`/`1`/`1`
 * (Crockford's rule) — these letters are never issued.
 * @example normalizeRecoveryCode(' 7K2M q0zd-9HRT ') // '7k2m-q0zd-9hrt'
 */
export function normalizeRecoveryCode(input: unknown): string | undefined {
  if (typeof input !== 'string' || input.length > 64) return undefined;
  const s = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  if (s.length !== RECOVERY_SYMBOLS) return undefined;
  for (const ch of s) if (!RECOVERY_ALPHABET.includes(ch)) return undefined;
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8)}`;
}

/**
 * scrypt hash of a password, encoded `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`.
 * @param pw - the password (length rules are the caller's)
 * @returns the encoding to store
 * @example await hashPassword('correct horse battery') // 'scrypt$15$8$1$…$…'
 */
export async function hashPassword(pw: string): Promise<string> {
  if (typeof pw !== 'string') throw new TypeError('password: expected a string');
  const { logN, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(pw, salt, HASH_BYTES, logN, r, p);
  return `scrypt$${logN}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Whether `pw` matches an encoding made by {@link hashPassword}; the final compare is
 * constant-time, and the scrypt work is the same for a right and a wrong password.
 * @throws TypeError when `encoded` is not a well-formed scrypt encoding (a corrupt record)
 * @example await verifyPassword('correct horse battery', stored) // true
 */
export async function verifyPassword(pw: string, encoded: string): Promise<boolean> {
  if (typeof pw !== 'string') throw new TypeError('password: expected a string');
  const parsed = parseEncoded(encoded);
  const got = await scryptAsync(
    pw,
    parsed.salt,
    parsed.hash.length,
    parsed.logN,
    parsed.r,
    parsed.p
  );
  return timingSafeEqual(got, parsed.hash);
}

/** The fields of a stored scrypt encoding, bounds-checked. */
function parseEncoded(encoded: unknown): {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
} {
  const bad = (): TypeError =>
    new TypeError('password hash: expected scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>');
  if (typeof encoded !== 'string') throw bad();
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw bad();
  const [logN, r, p] = parts.slice(1, 4).map((x) => (/^\d{1,3}$/.test(x!) ? Number(x) : NaN));
  if (!(logN! >= 1 && logN! <= MAX_LOG_N && r! >= 1 && r! <= MAX_R && p! >= 1 && p! <= MAX_P)) {
    throw bad();
  }
  if (128 * 2 ** logN! * r! > MAX_SCRYPT_MEMORY) throw bad();
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/;
  if (!b64.test(parts[4]!) || !b64.test(parts[5]!)) throw bad();
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16 || hash.length > 64) throw bad();
  return { logN: logN!, r: r!, p: p!, salt, hash };
}

/** Promise form of `crypto.scrypt` (runs on the libuv thread pool, not the event loop). */
function scryptAsync(
  pw: BinaryLike,
  salt: BinaryLike,
  keylen: number,
  logN: number,
  r: number,
  p: number
): Promise<Buffer> {
  const N = 2 ** logN;
  // Node's default maxmem (32 MiB) is just below what N = 2^15, r = 8 needs (128·N·r plus
  // 128·r·p of working space): allow twice the main requirement plus a margin.
  const opts: ScryptOptions = { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(pw, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
