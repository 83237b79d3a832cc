/**
 * `mpc verify`: check a secp256k1 ECDSA signature offline, against a public key or an Ethereum
 * address (issue 6, "mpc CLI": "`verify` (checks a signature against a key or address offline)").
 *
 * It needs no coordinator and shares no code with the signing path except the hashing modes
 * (`digestOf`, so that "eth-personal" here is exactly what the daemons recompute) and the address
 * derivation (`ethereumAddress`); the curve arithmetic is @noble/curves.
 *
 * - The digest is 32 bytes given as is (`--digest`), or a message (`--message` UTF-8,
 *   `--message-hex` bytes) hashed with `--hash` (default eth-personal: EIP-191 as wallets sign).
 * - Against a public key: ECDSA verification over the raw digest (no prehash). High-s signatures
 *   are valid ECDSA but not canonical (Ethereum and Bitcoin reject them, and mpcd's combine step
 *   normalises s), so they count as INVALID unless `--allow-high-s`.
 * - Against an address: recover the key from (r, s, v) — or from both recovery ids when v is not
 *   given — and compare its address case-insensitively; a mixed-case address must carry a correct
 *   EIP-55 checksum (a wrong one is a typo: USAGE, not INVALID).
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { Option, type Command } from 'commander';
import { ethereumAddress } from '../../protocol/cggmp/key-share.js';
import type { HashingMode } from '../../protocol/control/messages.js';
import { FAILURE, OK, usageError } from './exit-codes.js';
import { runCommand } from './output.js';

type Point = InstanceType<typeof secp256k1.Point>;
type Signature = InstanceType<typeof secp256k1.Signature>;

/** Message hashing modes `--hash` accepts. */
export const MESSAGE_HASHES = ['eth-personal', 'keccak256', 'sha256'] as const;
export type MessageHash = (typeof MESSAGE_HASHES)[number] & Exclude<HashingMode, 'none'>;

/** The flags of `mpc verify`, as commander hands them over (all strings, unchecked). */
export interface VerifyFlags {
  digest?: string;
  message?: string;
  messageHex?: string;
  hash?: string;
  signature?: string;
  r?: string;
  s?: string;
  v?: string;
  publicKey?: string;
  address?: string;
  allowHighS?: boolean;
}

/** A checked verification request. */
export interface VerifyRequest {
  readonly digest: Uint8Array;
  readonly r: bigint;
  readonly s: bigint;
  /** Recovery id from v (27/28 or 0/1), when given. */
  readonly recid?: number;
  /** SEC1 public key (33 or 65 bytes, on the curve), or … */
  readonly publicKey?: Uint8Array;
  /** … a 20-byte address, lowercase 0x-hex. */
  readonly address?: string;
  readonly allowHighS: boolean;
}

/** The answer; also the `--json` output. */
export interface VerifyResult {
  readonly valid: boolean;
  /** Why not, when `valid` is false. */
  readonly reason?: string;
  /** The digest checked, 0x-hex. */
  readonly digest: string;
  /** EIP-55 address of the key (recovered, or derived from `--public-key`). */
  readonly address?: string;
  /** Compressed public key, 0x-hex. */
  readonly publicKey?: string;
  /** s ≤ n/2 (canonical). */
  readonly lowS: boolean;
  /** The recovery id that yields the key (v = 27 + recid), null when none does. */
  readonly recid: number | null;
}

const N = secp256k1.Point.Fn.ORDER;
const hex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex');

/**
 * Decode 0x-hex (the prefix is optional) of one of the allowed byte lengths (any when `lengths` is
 * empty).
 * @throws CliError USAGE naming `flag` and the length it got
 */
function parseHex(
  flag: string,
  value: string,
  lengths: readonly number[],
  what: string
): Uint8Array {
  const digits = value.replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    throw usageError(flag, `not hex (expected ${what} as 0x followed by hex digits)`);
  }
  if (digits.length % 2 !== 0) {
    throw usageError(flag, `odd number of hex digits (${digits.length}); expected ${what}`);
  }
  const bytes = Buffer.from(digits, 'hex');
  if (lengths.length > 0 && !lengths.includes(bytes.length)) {
    const n = bytes.length;
    throw usageError(flag, `must be ${what}; got ${n} byte${n === 1 ? '' : 's'}`);
  }
  return new Uint8Array(bytes);
}

/** A scalar in [1, n−1] from up to 32 bytes of hex. */
function parseScalar(flag: string, value: string): bigint {
  const b = parseHex(
    flag,
    value,
    Array.from({ length: 32 }, (_, i) => i + 1),
    'up to 32 bytes'
  );
  return checkScalar(flag, BigInt(hex(b)));
}

function checkScalar(flag: string, x: bigint, label = ''): bigint {
  if (x === 0n || x >= N) {
    throw usageError(flag, `${label}must be in [1, n−1] (n = the secp256k1 order)`);
  }
  return x;
}

/** Recovery id from v: 27/28 (Ethereum) or 0/1 (raw). */
function recidOf(flag: string, v: number, label = ''): number {
  if (v === 27 || v === 28) return v - 27;
  if (v === 0 || v === 1) return v;
  throw usageError(flag, `${label}must be 27, 28, 0 or 1; got ${v}`);
}

/** EIP-55 mixed-case checksum of a lowercase 40-digit hex address. */
function checksummed(lowerHex: string): string {
  const h = Buffer.from(keccak_256(new TextEncoder().encode(lowerHex))).toString('hex');
  let out = '';
  for (let i = 0; i < lowerHex.length; i++) {
    out += parseInt(h[i]!, 16) >= 8 ? lowerHex[i]!.toUpperCase() : lowerHex[i]!;
  }
  return out;
}

function parseAddress(value: string): string {
  const b = parseHex('--address', value, [20], '20 bytes (0x + 40 hex digits)');
  const digits = value.replace(/^0x/i, '');
  const lower = Buffer.from(b).toString('hex');
  // All-lowercase or all-uppercase addresses carry no checksum (EIP-55); mixed case must match it.
  if (digits !== lower && digits !== lower.toUpperCase() && digits !== checksummed(lower)) {
    throw usageError(
      '--address',
      'bad EIP-55 checksum (a mistyped address?); give it all lowercase to skip the check'
    );
  }
  return '0x' + lower;
}

function exactlyOne(flags: Record<string, unknown>, names: string[]): void {
  const given = names.filter((n) => flags[n] !== undefined);
  if (given.length !== 1) {
    const list = names.map((n) => '--' + n.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
    throw usageError(
      list.join(' | '),
      given.length === 0 ? 'give one of them' : 'give only one of them'
    );
  }
}

/**
 * Check the flags of `mpc verify` and build the request.
 * @throws CliError USAGE naming the flag at fault
 * @example
 * await parseVerifyFlags({ digest: '0x…', signature: '0x…1b', address: '0x…' })
 */
export async function parseVerifyFlags(f: VerifyFlags): Promise<VerifyRequest> {
  exactlyOne({ ...f }, ['digest', 'message', 'messageHex']);
  let digest: Uint8Array;
  if (f.digest !== undefined) {
    if (f.hash !== undefined) throw usageError('--hash', 'applies to --message or --message-hex');
    digest = parseHex('--digest', f.digest, [32], '32 bytes (0x + 64 hex digits)');
  } else {
    const hash = (f.hash ?? 'eth-personal') as MessageHash;
    if (!MESSAGE_HASHES.includes(hash)) {
      throw usageError('--hash', `must be one of ${MESSAGE_HASHES.join(', ')}`);
    }
    const msg =
      f.message !== undefined
        ? new TextEncoder().encode(f.message)
        : parseHex('--message-hex', f.messageHex!, [], 'bytes');
    // Loaded on demand: the module brings libp2p's peer-id and the keygen decoder (~0.35 s of
    // startup every other `mpc` command would pay for nothing).
    const { digestOf } = await import('../../daemon/session/invitation.js');
    digest = digestOf(hash, msg);
  }

  let r: bigint;
  let s: bigint;
  let recid: number | undefined;
  if (f.signature !== undefined) {
    for (const other of ['r', 's', 'v'] as const) {
      if (f[other] !== undefined) throw usageError(`--${other}`, 'not with --signature');
    }
    const sig = parseHex(
      '--signature',
      f.signature,
      [65],
      '65 bytes r || s || v (0x + 130 digits)'
    );
    r = checkScalar('--signature', BigInt(hex(sig.subarray(0, 32))), 'r ');
    s = checkScalar('--signature', BigInt(hex(sig.subarray(32, 64))), 's ');
    recid = recidOf('--signature', sig[64]!, 'the last byte (v) ');
  } else {
    if (f.r === undefined && f.s === undefined) {
      throw usageError('--signature | --r --s', 'give the signature');
    }
    if (f.r === undefined) throw usageError('--r', 'missing (--r and --s go together)');
    if (f.s === undefined) throw usageError('--s', 'missing (--r and --s go together)');
    r = parseScalar('--r', f.r);
    s = parseScalar('--s', f.s);
    if (f.v !== undefined) {
      if (!/^\d{1,3}$/.test(f.v)) throw usageError('--v', 'must be 27, 28, 0 or 1');
      recid = recidOf('--v', Number(f.v));
    }
  }

  exactlyOne({ ...f }, ['publicKey', 'address']);
  const common = { digest, r, s, allowHighS: f.allowHighS === true };
  const withRecid = recid === undefined ? common : { ...common, recid };
  if (f.publicKey !== undefined) {
    const pk = parseHex('--public-key', f.publicKey, [33, 65], '33 or 65 bytes (SEC1)');
    try {
      secp256k1.Point.fromBytes(pk).assertValidity();
    } catch {
      throw usageError('--public-key', 'not a point on secp256k1');
    }
    return { ...withRecid, publicKey: pk };
  }
  return { ...withRecid, address: parseAddress(f.address!) };
}

/** The key recovered with a recovery id, or undefined when (r, recid) names no curve point. */
function recover(sig: Signature, recid: number, digest: Uint8Array): Point | undefined {
  try {
    return sig.addRecoveryBit(recid).recoverPublicKey(digest);
  } catch {
    return undefined;
  }
}

/**
 * Verify a checked request (pure: no I/O).
 * @returns valid, or not with the reason; the key's address and compressed key when known
 * @example
 * const res = verifySignature(await parseVerifyFlags(flags));
 * if (!res.valid) console.log(res.reason);
 */
export function verifySignature(req: VerifyRequest): VerifyResult {
  const sig = new secp256k1.Signature(req.r, req.s);
  const lowS = !sig.hasHighS();
  const digest = hex(req.digest);
  const highS =
    'high-s: valid ECDSA but not canonical (s > n/2; Ethereum transactions and Bitcoin reject it); --allow-high-s accepts it';
  const v = (id: number): string => `v = ${27 + id}`;

  if (req.publicKey) {
    const P = secp256k1.Point.fromBytes(req.publicKey);
    const key = { address: ethereumAddress(P), publicKey: hex(P.toBytes(true)) };
    const ok = secp256k1.verify(sig.toBytes('compact'), req.digest, req.publicKey, {
      prehash: false,
      lowS: false,
    });
    const found = [0, 1].find((id) => recover(sig, id, req.digest)?.equals(P));
    const recid = found ?? null;
    const base = { digest, ...key, lowS, recid };
    if (!ok) {
      return {
        valid: false,
        reason: 'the signature does not verify under this public key',
        ...base,
      };
    }
    if (req.recid !== undefined && req.recid !== found) {
      const right = found === undefined ? 'no recovery id does' : `${v(found)} does`;
      return {
        valid: false,
        reason: `${v(req.recid)} does not recover this key (${right})`,
        ...base,
      };
    }
    if (!lowS && !req.allowHighS) return { valid: false, reason: highS, ...base };
    return { valid: true, ...base };
  }

  const want = req.address!;
  const ids = req.recid === undefined ? [0, 1] : [req.recid];
  const candidates = ids.flatMap((id) => {
    const Q = recover(sig, id, req.digest);
    return Q ? [{ id, Q, address: ethereumAddress(Q) }] : [];
  });
  const match = candidates.find((c) => c.address.toLowerCase() === want);
  if (!match) {
    const got = candidates.map((c) => `${c.address} (${v(c.id)})`).join(' or ');
    const only = candidates.length === 1 ? candidates[0]! : undefined;
    return {
      valid: false,
      reason:
        candidates.length === 0
          ? 'no public key recovers from this signature (r is not the x of a curve point)'
          : `the signature recovers ${got}, not ${checksummedAddress(want)}`,
      digest,
      ...(only ? { address: only.address, publicKey: hex(only.Q.toBytes(true)) } : {}),
      lowS,
      recid: only ? only.id : null,
    };
  }
  const base = {
    digest,
    address: match.address,
    publicKey: hex(match.Q.toBytes(true)),
    lowS,
    recid: match.id,
  };
  if (!lowS && !req.allowHighS) return { valid: false, reason: highS, ...base };
  return { valid: true, ...base };
}

function checksummedAddress(lower0x: string): string {
  return '0x' + checksummed(lower0x.slice(2));
}

/** The human form of a result: `valid` or `INVALID: <reason>`, then the details. */
export function formatVerifyResult(res: VerifyResult): string {
  const lines = [res.valid ? 'valid' : `INVALID: ${res.reason ?? 'unknown reason'}`];
  lines.push(`digest:     ${res.digest}`);
  if (res.address) lines.push(`address:    ${res.address}`);
  if (res.publicKey) lines.push(`public key: ${res.publicKey}`);
  lines.push(`low-s:      ${res.lowS ? 'yes' : 'no (high-s)'}`);
  if (res.recid !== null) lines.push(`recid:      ${res.recid} (v = ${27 + res.recid})`);
  return lines.join('\n') + '\n';
}

const HELP_AFTER = `
The signature may come from an mpc key (threshold = the number of parties needed to sign) or from
any secp256k1 signer: verification needs only the public key or the address. The digest is 32 bytes. A message is hashed first: eth-personal (default) is EIP-191
keccak256("\\x19Ethereum Signed Message:\\n" + length + message), what wallets sign; keccak256 and
sha256 hash the bytes as they are.

Exit: 0 valid, 1 INVALID (including high-s without --allow-high-s), 2 bad flags.

Examples:
  # a raw digest against a public key (33-byte compressed or 65-byte uncompressed)
  mpc verify --digest 0x9c22ff5f21f0b81b113e63f7db6da94fedef11b2119b4088b89664fb9a3cb658 \\
    --signature 0x<r: 32 bytes><s: 32 bytes><v: 1b or 1c> --public-key 0x02<x: 32 bytes>

  # an Ethereum personal message (as MetaMask or ethers signMessage signs it) against an address
  mpc verify --message 'hello mpcd' --signature 0x<65 bytes> --address 0x<20 bytes> --json`;

/**
 * Add the `verify` subcommand to `program` (created with `program.command`, so it inherits the
 * program's settings: exit override, output, help). Options read from the program: `--json`.
 * @returns the subcommand
 */
export function addVerifyCommand(program: Command): Command {
  return program
    .command('verify')
    .description(
      'check a secp256k1 ECDSA signature offline against a public key or an Ethereum address'
    )
    .option('--digest <hex>', 'the 32-byte digest that was signed')
    .option('--message <text>', 'the message (UTF-8) the digest was made from, see --hash')
    .option('--message-hex <hex>', 'the message as hex bytes, see --hash')
    .addOption(
      new Option('--hash <mode>', 'how the message was hashed (default: eth-personal)').choices(
        MESSAGE_HASHES
      )
    )
    .option('--signature <hex>', '65 bytes r || s || v, v = 27, 28, 0 or 1')
    .option('--r <hex>', 'r (with --s, instead of --signature)')
    .option('--s <hex>', 's')
    .option('--v <v>', 'v: 27, 28, 0 or 1 (optional; with --address both are tried)')
    .option('--public-key <hex>', 'SEC1 public key, 33 or 65 bytes')
    .option('--address <hex>', 'Ethereum address, 20 bytes (EIP-55 checked when mixed case)')
    .option('--allow-high-s', 'accept a high-s signature (valid ECDSA, not canonical)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: VerifyFlags, cmd: Command) => {
      const { json } = cmd.optsWithGlobals<{ json?: boolean }>();
      await runCommand(json === true, async (out) => {
        const res = verifySignature(await parseVerifyFlags(flags));
        out.result(res, formatVerifyResult(res));
        return res.valid ? OK : FAILURE;
      });
    });
}
