/**
 * Key-share checks, codec and summary (the {@link KeyShare} of `protocol/cggmp/key-share.ts`).
 *
 * - {@link validateKeyShare}: structural and algebraic checks a share must pass before it is used
 *   (presign calls it): sizes against t/n/roster, valid non-identity points, x ≠ 0 and x·G = X_i,
 *   every X_k on ONE polynomial of degree t−1 whose value at 0 is pk — so Σ_{j∈S} λ_j·X_j = pk for
 *   EVERY t-subset S (CGGMP.md §5.4; SECURITY.md §1.9, §1.10) — the key id, the aux info shape,
 *   and the own Paillier/ring-Pedersen secrets against the own public aux (p·q = N_i, s_i = t_i^λ).
 * - {@link encodeKeyShare} / {@link decodeKeyShare}: the plain-data codec of `state-codec.ts` with
 *   a version check; decoding re-validates.
 * - {@link keyShareSummary}: key id, compressed public key, EIP-55 address.
 * @module
 */
import { DecodeError, InvalidArgs } from '../../errors.js';
import { bitLength } from '../../math/bytes.js';
import {
  CURVE_ORDER,
  decodePoint,
  IDENTITY,
  isIdentity,
  modQ,
  mulBase,
  mulPublic,
  type Point,
} from '../../math/curve.js';
import { modInverse } from '../../math/modular.js';
import { PaillierSecretKey } from '../../paillier/paillier.js';
import {
  RingPedersenError,
  ringPedersenFromSecret,
  validateRingPedersen,
} from '../../paillier/ring-pedersen.js';
import { levelByName, MAX_PARTIES } from '../../params.js';
import { deserializeState, serializeState } from '../../round/state-codec.js';
import { computeKeyId, ethereumAddress, KEY_SHARE_VERSION, type KeyShare } from '../key-share.js';
import { validateRoster } from './validate.js';

/**
 * L_j(z) = Π_{m ∈ S, m ≠ j} (z − I(m)) / (I(j) − I(m)) mod q with I(i) = i + 1: the Lagrange
 * basis polynomial of S at z (z = 0 gives the λ_j of §5.4).
 */
export function lagrangeAt(S: readonly number[], j: number, z: bigint): bigint {
  let num = 1n;
  let den = 1n;
  const xj = BigInt(j + 1);
  for (const m of S) {
    if (m === j) continue;
    const xm = BigInt(m + 1);
    num = modQ(num * (z - xm));
    den = modQ(den * (xj - xm));
  }
  return modQ(num * modInverse(den, CURVE_ORDER));
}

function fail(field: string, rule: string): never {
  throw new InvalidArgs(`share.${field}`, rule);
}

function isBytes(b: unknown, len?: number): b is Uint8Array {
  return b instanceof Uint8Array && (len === undefined || b.length === len);
}

function point(b: unknown, field: string): Point {
  if (!isBytes(b, 33)) fail(field, 'must be a 33-byte compressed point');
  try {
    return decodePoint(b, field);
  } catch {
    return fail(field, 'not a valid point (or the identity)');
  }
}

/**
 * Check a key share (structure, sizes, algebra). Costs about (n−t+1)·t public scalar
 * multiplications and one CRT exponentiation; it does not re-run the primality tests of the own
 * primes (done when the key was made).
 * @throws InvalidArgs naming the first bad field (`share.<field>`)
 * @example validateKeyShare(share) // before presigning with it
 */
export function validateKeyShare(share: KeyShare): void {
  if (typeof share !== 'object' || share === null) fail('', 'must be an object');
  if (share.version !== KEY_SHARE_VERSION)
    fail('version', `unsupported key-share version ${String(share.version)}`);
  let level;
  try {
    level = levelByName(share.level);
  } catch {
    return fail('level', 'unknown security level');
  }
  const { t, n } = share;
  if (!Number.isInteger(n) || n < 2 || n > MAX_PARTIES) fail('n', `must be in [2, ${MAX_PARTIES}]`);
  if (!Number.isInteger(t) || t < 2 || t > n) fail('t', 'must be in [2, n]');
  if (!Number.isInteger(share.epoch) || share.epoch < 0 || share.epoch > 0xffffffff)
    fail('epoch', 'must be a u32');
  try {
    validateRoster(share.roster, n);
  } catch (err) {
    if (err instanceof InvalidArgs) fail(err.field, err.rule);
    throw err;
  }
  const i = share.index;
  if (!Number.isInteger(i) || i < 0 || i >= n) fail('index', 'must be a roster index');
  if (typeof share.x !== 'bigint' || share.x <= 0n || share.x >= CURVE_ORDER)
    fail('x', 'must be in [1, q)');
  if (!Array.isArray(share.publicShares) || share.publicShares.length !== n)
    fail('publicShares', 'must have n entries');
  const X = share.publicShares.map((b, k) => point(b, `publicShares[${k}]`));
  const pk = point(share.publicKey, 'publicKey');
  if (share.keyId !== computeKeyId(share.publicKey, share.roster, t))
    fail('keyId', 'does not match (publicKey, roster, t)');
  if (!isBytes(share.rid, 32)) fail('rid', 'must be 32 bytes');
  if (!isBytes(share.chainCode, 32)) fail('chainCode', 'must be 32 bytes');

  // x_i·G = X_i
  if (!mulBase(share.x).equals(X[i]!)) fail('x', 'x·G ≠ publicShares[index]');
  // Interpolate from the first t parties: pk at 0, and every further X_k at k+1 (degree t−1).
  const first = Array.from({ length: t }, (_, j) => j);
  const at = (z: bigint): Point =>
    first.reduce((acc, j) => acc.add(mulPublic(X[j]!, lagrangeAt(first, j, z))), IDENTITY);
  if (isIdentity(pk) || !at(0n).equals(pk)) fail('publicKey', 'Σ λ_j·X_j over S ≠ publicKey');
  for (let k = t; k < n; k++) {
    if (!at(BigInt(k + 1)).equals(X[k]!))
      fail(`publicShares[${k}]`, 'not on the degree-(t−1) polynomial of the others');
  }

  // Aux info: one (N_j, s_j, t_j) per party, moduli in the level's window and distinct.
  if (!Array.isArray(share.aux) || share.aux.length !== n) fail('aux', 'must have n entries');
  const seen = new Set<bigint>();
  share.aux.forEach((a, j) => {
    if (typeof a?.N !== 'bigint' || typeof a.s !== 'bigint' || typeof a.t !== 'bigint')
      fail(`aux[${j}]`, 'N, s, t must be integers');
    const bits = bitLength(a.N);
    if ((a.N & 1n) === 0n || bits < level.modulusBits - 1 || bits > level.modulusBits)
      fail(`aux[${j}].N`, `must be odd with ${level.modulusBits - 1} or ${level.modulusBits} bits`);
    if (seen.has(a.N)) fail(`aux[${j}].N`, 'duplicate modulus');
    seen.add(a.N);
    try {
      validateRingPedersen(a);
    } catch (err) {
      if (err instanceof RingPedersenError) fail(`aux[${j}]`, err.code);
      throw err;
    }
  });
  const own = share.ownAux;
  if (typeof own?.p !== 'bigint' || typeof own.q !== 'bigint' || typeof own.lambda !== 'bigint')
    fail('ownAux', 'p, q, lambda must be integers');
  for (const [f, v] of [
    ['p', own.p],
    ['q', own.q],
  ] as const) {
    if (bitLength(v) !== level.primeBits || (v & 3n) !== 3n)
      fail(`ownAux.${f}`, `must be a ${level.primeBits}-bit prime ≡ 3 (mod 4)`);
  }
  if (own.p === own.q || own.p * own.q !== share.aux[i]!.N)
    fail('ownAux', 'p·q must equal aux[index].N');
  try {
    const a = share.aux[i]!;
    ringPedersenFromSecret(new PaillierSecretKey(own.p, own.q), a.t, own.lambda, a.s);
  } catch (err) {
    if (err instanceof InvalidArgs) fail('ownAux.lambda', err.rule);
    throw err;
  }
}

/**
 * Serialize a key share (plain data → UTF-8 JSON, `state-codec.ts`); the layout version travels
 * in the share itself.
 * @throws InvalidArgs if the share is not plain data
 * @example const bytes = encodeKeyShare(share); decodeKeyShare(bytes)
 */
export function encodeKeyShare(share: KeyShare): Uint8Array {
  return serializeState(share);
}

/**
 * Parse and check a serialized key share. An unknown version is refused before anything else is
 * interpreted; the share is then validated ({@link validateKeyShare}).
 * @throws DecodeError (`version` for an unknown layout; `share.<field>` when invalid)
 */
export function decodeKeyShare(bytes: Uint8Array): KeyShare {
  const raw = deserializeState<unknown>(bytes);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DecodeError('share', 'not an object');
  const version = (raw as { version?: unknown }).version;
  if (version !== KEY_SHARE_VERSION) {
    throw new DecodeError(
      'version',
      `unsupported key-share version ${JSON.stringify(version)} (this build reads version ${KEY_SHARE_VERSION})`
    );
  }
  const share = raw as KeyShare;
  try {
    validateKeyShare(share);
  } catch (err) {
    if (err instanceof InvalidArgs) throw new DecodeError(err.field, err.rule);
    throw err;
  }
  return share;
}

/** Public facts about a key. */
export interface KeyShareSummary {
  readonly keyId: string;
  /** pk, compressed SEC1, hex. */
  readonly publicKey: string;
  /** EIP-55 checksummed Ethereum address. */
  readonly address: string;
}

/**
 * The key id, compressed public key (hex) and Ethereum address of a share.
 * @example keyShareSummary(share).address // '0x…'
 */
export function keyShareSummary(share: KeyShare): KeyShareSummary {
  return {
    keyId: share.keyId,
    publicKey: Buffer.from(share.publicKey).toString('hex'),
    address: ethereumAddress(share.publicKey),
  };
}
