/**
 * `mpc verify` driven as a real process (issue 6: "CLI tests drive the real binary"): signatures
 * made here with @noble/curves from a random key, and Ethereum personal messages signed by an
 * ethers Wallet, checked against public keys (both encodings) and addresses; every tampering gives
 * exit 1 and INVALID, every malformed flag exit 2 with a message naming the flag; the --json shapes;
 * and a cross-check with ethers `hashMessage` / `verifyMessage` so "eth-personal" is what wallets do.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { computeAddress, hashMessage, verifyMessage, Wallet } from 'ethers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMpc, type Run } from '../helpers/run.js';

/** `mpc <args>`, without any MPC_* variable of the caller. */
const mpc = (args: readonly string[]) => runMpc(args);

/** Sources through tsx, or the compiled entry with MPC_TEST_BIN=dist/cli/mpc.js. */

const N = secp256k1.Point.Fn.ORDER;
const hex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex');
const hex32 = (x: bigint): string => '0x' + x.toString(16).padStart(64, '0');
/** 65-byte r || s || v, v = 27 + recid. */
const sig65 = (r: bigint, s: bigint, recid: number): string =>
  hex32(r) + hex32(s).slice(2) + (27 + recid).toString(16);

interface Signed {
  digest: Uint8Array;
  r: bigint;
  s: bigint;
  recid: number;
}

function signDigest(digest: Uint8Array, sk: Uint8Array): Signed {
  const sig = secp256k1.Signature.fromBytes(
    secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' }),
    'recovered'
  );
  return { digest, r: sig.r, s: sig.s, recid: sig.recovery! };
}

const sk = secp256k1.utils.randomSecretKey();
const pkCompressed = secp256k1.getPublicKey(sk, true);
const pkUncompressed = secp256k1.getPublicKey(sk, false);
/** EIP-55 address, computed by ethers (not by mpcd). */
const address = computeAddress(hex(pkCompressed));
const otherAddress = computeAddress(hex(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey())));
const MESSAGE = 'héllo mpcd ✓ 2-of-3'; // non-ASCII: the EIP-191 length counts bytes

const rawDigest = crypto.getRandomValues(new Uint8Array(32));
const raw = signDigest(rawDigest, sk);
/** The eth-personal digest as ethers makes it. */
const personal = signDigest(Buffer.from(hashMessage(MESSAGE).slice(2), 'hex'), sk);

describe('mpc verify: valid signatures', () => {
  it('accepts a digest signature against the compressed public key', async () => {
    const res = await mpc([
      'verify',
      '--digest',
      hex(rawDigest),
      '--signature',
      sig65(raw.r, raw.s, raw.recid),
      '--public-key',
      hex(pkCompressed),
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines[0]).toBe('valid');
    expect(res.stdout).toContain(`address:    ${address}`);
    expect(res.stdout).toContain(`recid:      ${raw.recid} (v = ${27 + raw.recid})`);
  });

  it('accepts --r/--s without v against the uncompressed public key (--json)', async () => {
    const res = await mpc([
      'verify',
      '--json',
      '--digest',
      hex(rawDigest).slice(2), // the 0x prefix is optional
      '--r',
      hex32(raw.r),
      '--s',
      hex32(raw.s),
      '--public-key',
      hex(pkUncompressed),
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      valid: true,
      digest: hex(rawDigest),
      address,
      publicKey: hex(pkCompressed),
      lowS: true,
      recid: raw.recid,
    });
  });

  it('recovers the address from r || s || v and from --r/--s/--v 0|1', async () => {
    const a = await mpc([
      'verify',
      '--json',
      '--digest',
      hex(rawDigest),
      '--signature',
      sig65(raw.r, raw.s, raw.recid),
      '--address',
      address,
    ]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ valid: true, address, recid: raw.recid });
    const b = await mpc([
      'verify',
      '--digest',
      hex(rawDigest),
      '--r',
      hex32(raw.r),
      '--s',
      hex32(raw.s),
      '--v',
      String(raw.recid),
      '--address',
      address.toLowerCase(),
    ]);
    expect(b.code).toBe(0);
    expect(b.stdout.split('\n')[0]).toBe('valid');
  });

  it('finds the recovery id itself when v is not given', async () => {
    const res = await mpc([
      'verify',
      '--json',
      '--digest',
      hex(rawDigest),
      '--r',
      hex32(raw.r),
      '--s',
      hex32(raw.s),
      '--address',
      address,
    ]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ valid: true, recid: raw.recid });
  });
});

describe('mpc verify: Ethereum personal messages match wallets (ethers)', () => {
  it('our noble signature over the eth-personal digest is what ethers verifyMessage accepts', async () => {
    const sig = sig65(personal.r, personal.s, personal.recid);
    // The independent check: ethers recovers our key's address from the same message.
    expect(verifyMessage(MESSAGE, sig)).toBe(address);
    const res = await mpc([
      'verify',
      '--json',
      '--message',
      MESSAGE,
      '--signature',
      sig,
      '--address',
      address,
    ]);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { valid: boolean; digest: string; address: string };
    expect(out.valid).toBe(true);
    expect(out.digest).toBe(hashMessage(MESSAGE));
    expect(out.address).toBe(address);
  });

  it('accepts what an ethers Wallet signs with signMessage (text and bytes)', async () => {
    const wallet = Wallet.createRandom();
    const text = await wallet.signMessage(MESSAGE);
    const a = await mpc([
      'verify',
      '--message',
      MESSAGE,
      '--signature',
      text,
      '--address',
      wallet.address,
    ]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(`address:    ${wallet.address}`);

    const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x19]);
    const signedBytes = await wallet.signMessage(bytes);
    const b = await mpc([
      'verify',
      '--message-hex',
      hex(bytes),
      '--signature',
      signedBytes,
      '--public-key',
      wallet.signingKey.publicKey,
    ]);
    expect(b.code).toBe(0);
    expect(b.stdout.split('\n')[0]).toBe('valid');
  });

  it('--hash keccak256 and sha256 hash the raw message; the default then does not match', async () => {
    const msg = new TextEncoder().encode(MESSAGE);
    for (const [mode, digest] of [
      ['keccak256', keccak_256(msg)],
      ['sha256', sha256(msg)],
    ] as const) {
      const sg = signDigest(digest, sk);
      const flags = ['--signature', sig65(sg.r, sg.s, sg.recid), '--address', address];
      const ok = await mpc(['verify', '--json', '--message', MESSAGE, '--hash', mode, ...flags]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, digest: hex(digest) });
      const wrongMode = await mpc(['verify', '--message', MESSAGE, ...flags]);
      expect(wrongMode.code).toBe(1);
      expect(wrongMode.stdout).toMatch(/^INVALID: /);
    }
  });
});

describe('mpc verify: signatures that must not verify (exit 1, INVALID)', () => {
  const good = (): string[] => ['--signature', sig65(raw.r, raw.s, raw.recid)];

  it('a different digest', async () => {
    const other = Uint8Array.from(rawDigest);
    other[31]! ^= 1;
    const res = await mpc([
      'verify',
      '--digest',
      hex(other),
      ...good(),
      '--public-key',
      hex(pkCompressed),
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout.split('\n')[0]).toBe(
      'INVALID: the signature does not verify under this public key'
    );
  });

  it('one flipped bit in s, against the key and against the address', async () => {
    const bad = sig65(raw.r, raw.s ^ 1n, raw.recid);
    const a = await mpc([
      'verify',
      '--digest',
      hex(rawDigest),
      '--signature',
      bad,
      '--public-key',
      hex(pkCompressed),
    ]);
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/^INVALID: /);
    const b = await mpc([
      'verify',
      '--json',
      '--digest',
      hex(rawDigest),
      '--signature',
      bad,
      '--address',
      address,
    ]);
    expect(b.code).toBe(1);
    const out = JSON.parse(b.stdout) as { valid: boolean; reason: string; address: string };
    expect(out.valid).toBe(false);
    // The key recovered from the tampered signature is some other key.
    expect(out.address).not.toBe(address);
    expect(out.reason).toContain(`not ${address}`);
  });

  it('a different address, naming the address the signature does recover', async () => {
    const res = await mpc([
      'verify',
      '--digest',
      hex(rawDigest),
      ...good(),
      '--address',
      otherAddress,
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout.split('\n')[0]).toBe(
      `INVALID: the signature recovers ${address} (v = ${27 + raw.recid}), not ${otherAddress}`
    );
  });

  it('the wrong v for the public key', async () => {
    const res = await mpc([
      'verify',
      '--digest',
      hex(rawDigest),
      '--signature',
      sig65(raw.r, raw.s, raw.recid ^ 1),
      '--public-key',
      hex(pkCompressed),
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^INVALID: v = \d\d does not recover this key/);
  });

  it('high-s is INVALID unless --allow-high-s', async () => {
    // (r, n − s) with the other recovery id is the same signature's malleated twin.
    const high = sig65(raw.r, N - raw.s, raw.recid ^ 1);
    const base = ['verify', '--json', '--digest', hex(rawDigest), '--signature', high];
    for (const key of [
      ['--public-key', hex(pkCompressed)],
      ['--address', address],
    ]) {
      const no = await mpc([...base, ...key]);
      expect(no.code).toBe(1);
      const out = JSON.parse(no.stdout) as { valid: boolean; lowS: boolean; reason: string };
      expect(out).toMatchObject({ valid: false, lowS: false });
      expect(out.reason).toMatch(/^high-s/);
      const yes = await mpc([...base, ...key, '--allow-high-s']);
      expect(yes.code).toBe(0);
      expect(JSON.parse(yes.stdout)).toMatchObject({
        valid: true,
        lowS: false,
        address,
        recid: raw.recid ^ 1,
      });
    }
  });
});

describe('mpc verify: bad input (exit 2, the message names the flag)', () => {
  const sig = sig65(raw.r, raw.s, raw.recid);
  const digest = hex(rawDigest);
  const pk = hex(pkCompressed);
  /** Flip the case of the first checksum letter: same address, wrong EIP-55 checksum. */
  const badChecksum = ((): string => {
    const i = address.slice(2).search(/[a-fA-F]/) + 2;
    const c = address[i]!;
    return (
      address.slice(0, i) +
      (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) +
      address.slice(i + 1)
    );
  })();
  const cases: [string, string[], RegExp][] = [
    [
      'short digest',
      ['--digest', '0x1234', '--signature', sig, '--public-key', pk],
      /--digest: must be 32 bytes .*got 2 bytes/,
    ],
    [
      'digest not hex',
      ['--digest', '0x' + 'zz'.repeat(32), '--signature', sig, '--public-key', pk],
      /--digest: not hex/,
    ],
    [
      'odd digest',
      ['--digest', digest + '0', '--signature', sig, '--public-key', pk],
      /--digest: odd number of hex digits \(65\)/,
    ],
    [
      '64-byte signature',
      ['--digest', digest, '--signature', sig.slice(0, -2), '--public-key', pk],
      /--signature: must be 65 bytes .*got 64 bytes/,
    ],
    [
      'bad v byte',
      ['--digest', digest, '--signature', sig.slice(0, -2) + '25', '--public-key', pk],
      /--signature: the last byte \(v\) must be 27, 28, 0 or 1; got 37/,
    ],
    [
      'r = 0',
      ['--digest', digest, '--r', '0x00', '--s', hex32(raw.s), '--public-key', pk],
      /--r: must be in \[1, n−1\]/,
    ],
    [
      's = n',
      ['--digest', digest, '--r', hex32(raw.r), '--s', hex32(N), '--public-key', pk],
      /--s: must be in \[1, n−1\]/,
    ],
    [
      's = n inside --signature',
      ['--digest', digest, '--signature', sig65(raw.r, N, 0), '--public-key', pk],
      /--signature: s must be in \[1, n−1\]/,
    ],
    [
      '--r without --s',
      ['--digest', digest, '--r', hex32(raw.r), '--public-key', pk],
      /--s: missing/,
    ],
    [
      '--v 29',
      [
        '--digest',
        digest,
        '--r',
        hex32(raw.r),
        '--s',
        hex32(raw.s),
        '--v',
        '29',
        '--public-key',
        pk,
      ],
      /--v: must be 27, 28, 0 or 1; got 29/,
    ],
    [
      '--v with --signature',
      ['--digest', digest, '--signature', sig, '--v', '27', '--public-key', pk],
      /--v: not with --signature/,
    ],
    [
      'no signature',
      ['--digest', digest, '--public-key', pk],
      /--signature \| --r --s: give the signature/,
    ],
    [
      '32-byte public key',
      ['--digest', digest, '--signature', sig, '--public-key', pk.slice(0, -2)],
      /--public-key: must be 33 or 65 bytes .*got 32 bytes/,
    ],
    [
      'public key off the curve',
      ['--digest', digest, '--signature', sig, '--public-key', '0x02' + 'ff'.repeat(32)],
      /--public-key: not a point on secp256k1/,
    ],
    [
      '19-byte address',
      ['--digest', digest, '--signature', sig, '--address', address.slice(0, -2)],
      /--address: must be 20 bytes .*got 19 bytes/,
    ],
    [
      'bad EIP-55 checksum',
      ['--digest', digest, '--signature', sig, '--address', badChecksum],
      /--address: bad EIP-55 checksum/,
    ],
    [
      'no key',
      ['--digest', digest, '--signature', sig],
      /--public-key \| --address: give one of them/,
    ],
    [
      'both keys',
      ['--digest', digest, '--signature', sig, '--public-key', pk, '--address', address],
      /--public-key \| --address: give only one of them/,
    ],
    [
      'no digest',
      ['--signature', sig, '--public-key', pk],
      /--digest \| --message \| --message-hex: give one of them/,
    ],
    [
      'digest and message',
      ['--digest', digest, '--message', 'x', '--signature', sig, '--public-key', pk],
      /--digest \| --message \| --message-hex: give only one/,
    ],
    [
      '--hash with --digest',
      ['--digest', digest, '--hash', 'sha256', '--signature', sig, '--public-key', pk],
      /--hash: applies to --message or --message-hex/,
    ],
    [
      'unknown --hash',
      ['--message', 'x', '--hash', 'md5', '--signature', sig, '--public-key', pk],
      /option '--hash <mode>' argument 'md5' is invalid/,
    ],
    [
      '--message-hex not hex',
      ['--message-hex', '0xgg', '--signature', sig, '--public-key', pk],
      /--message-hex: not hex/,
    ],
    [
      'unknown option',
      ['--digest', digest, '--signature', sig, '--public-key', pk, '--fast'],
      /unknown option '--fast'/,
    ],
    [
      'flag without its value',
      ['--signature', sig, '--public-key', pk, '--digest'],
      /option '--digest <hex>' argument missing/,
    ],
  ];

  it.concurrent.each(cases)('%s', async (_name, args, message) => {
    const res = await mpc(['verify', ...args]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^mpc: /);
    expect(res.stderr).toMatch(message);
  });

  it('with --json the error is one object on stdout, and the exit code is still 2', async () => {
    const res = await mpc([
      'verify',
      '--json',
      '--digest',
      '0x12',
      '--signature',
      sig,
      '--public-key',
      pk,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual({
      error: {
        code: 'USAGE',
        message: '--digest: must be 32 bytes (0x + 64 hex digits); got 1 byte',
      },
    });
    const unknown = await mpc(['verify', '--nope', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({
      error: { code: 'USAGE', message: "unknown option '--nope'" },
    });
  });
});

describe('mpc --help', () => {
  let top: Run;
  let verify: Run;
  beforeAll(async () => {
    [top, verify] = await Promise.all([mpc(['--help']), mpc(['verify', '--help'])]);
  });

  it('documents the exit codes and what threshold means', () => {
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('threshold = the number of parties needed to sign');
    for (const line of [
      /0 +OK/,
      /1 +FAILURE/,
      /2 +USAGE/,
      /3 +AUTH/,
      /4 +SESSION_FAILED/,
      /5 +TIMEOUT/,
      /6 +UNAVAILABLE/,
    ]) {
      expect(top.stdout).toMatch(line);
    }
  });

  it('verify --help has a digest + public key example and a personal message + address example', () => {
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/mpc verify --digest 0x[0-9a-f]{64}[^]*--public-key/);
    expect(verify.stdout).toMatch(/mpc verify --message '[^']+' --signature [^]*--address/);
    expect(verify.stdout).toContain('threshold = the number of parties needed to sign');
  });

  it('no command at all is a usage error', async () => {
    const res = await mpc([]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('Usage: mpc');
  });
});
