/**
 * `npm run demo` (for now; `npm run demo:memory` once the network demo exists): the whole
 * protocol in one process — t-of-n key generation (aux info + Feldman VSS + confirmation),
 * presign + sign of a digest, and three independent verifications of the signature.
 *
 * Usage: npm run demo -- [--threshold 2] [--parties 3] [--level level128|level112]
 *                         [--message "text" | --digest 0x<64 hex>] [--signers 0,2]
 *                         [--fixtures] [--json]
 *
 * By default every party gets fresh safe primes (this takes a while at level128: the daemon keeps
 * a pool for that). `--fixtures` uses the repository's public TEST-ONLY primes instead — fast, and
 * the resulting key must never hold anything.
 */
import { randomBytes } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { ethereumAddress } from '../protocol/cggmp/key-share.js';
import type { KeyShare } from '../protocol/cggmp/key-share.js';
import { startKeygen } from '../protocol/cggmp/keygen/index.js';
import { signDigestEngine, signDigestSessionId } from '../protocol/cggmp/sign/sign-digest.js';
import { computeSessionId } from '../protocol/hash/session-id.js';
import { generatePrimePair, type PrimePair } from '../protocol/math/primes.js';
import { levelByName, MAX_PARTIES, type SecurityLevel } from '../protocol/params.js';
import { ed25519PublicKey } from '../protocol/round/envelope.js';
import { RoundEngine } from '../protocol/round/engine.js';
import { simulate } from '../protocol/round/simulation.js';
import { fixtureCount, fixturePrimes } from '../tests/helpers/fixtures.js';
import { ethersRecover, nobleVerify, opensslVerify } from '../tests/helpers/verify.js';

const HELP = `mpcd in-memory demo: keygen t-of-n, then sign a digest, then verify it three ways.

Options:
  --threshold <t>      signers needed (default 2); 2 ≤ t ≤ n
  --parties <n>        parties (default 3); n ≤ ${MAX_PARTIES}
  --level <name>       level128 (default, 3072-bit Paillier) or level112 (2048-bit)
  --message <text>     sign keccak256(text) (default "hello from mpcd")
  --digest <0x…>       sign this 32-byte digest instead
  --signers <i,j,…>    roster indices of the t signers (default 0..t-1)
  --fixtures           use the repository's public TEST-ONLY primes (fast; never hold funds)
  --json               print one JSON object instead of text
  -h, --help           this help

Examples:
  npm run demo
  npm run demo -- --fixtures --threshold 3 --parties 5 --signers 0,2,4
`;

function fail(msg: string, code = 2): never {
  process.stderr.write(`demo: ${msg}\n(run with --help for the options)\n`);
  process.exit(code);
}

function parseArgs(argv: string[]) {
  const opts = {
    t: 2,
    n: 3,
    level: 'level128',
    message: 'hello from mpcd',
    digest: undefined as string | undefined,
    signers: undefined as number[] | undefined,
    fixtures: false,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    const int = (name: string): number => {
      const v = value();
      if (!/^\d+$/.test(v)) fail(`${name} must be a whole number, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (a === '--threshold') opts.t = int('--threshold');
    else if (a === '--parties') opts.n = int('--parties');
    else if (a === '--level') opts.level = value();
    else if (a === '--message') opts.message = value();
    else if (a === '--digest') opts.digest = value();
    else if (a === '--signers') {
      const v = value();
      if (!/^\d+(,\d+)*$/.test(v))
        fail(`--signers must be comma-separated indices, got ${JSON.stringify(v)}`);
      opts.signers = v.split(',').map(Number);
    } else if (a === '--fixtures') opts.fixtures = true;
    else if (a === '--json') opts.json = true;
    else fail(`unknown option ${a}`);
  }
  if (opts.n < 2 || opts.n > MAX_PARTIES)
    fail(`--parties must be between 2 and ${MAX_PARTIES}, got ${opts.n}`);
  if (opts.t < 2 || opts.t > opts.n)
    fail(`--threshold must be between 2 and --parties (${opts.n}), got ${opts.t}`);
  if (opts.level !== 'level128' && opts.level !== 'level112')
    fail(`--level must be level128 or level112, got ${opts.level}`);
  const signers = opts.signers ?? Array.from({ length: opts.t }, (_, i) => i);
  const sorted = [...new Set(signers)].sort((x, y) => x - y);
  if (sorted.length !== opts.t || sorted.some((s) => s >= opts.n)) {
    fail(
      `--signers must name ${opts.t} distinct indices below ${opts.n}, got ${signers.join(',')}`
    );
  }
  let digest: Uint8Array;
  if (opts.digest !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(opts.digest))
      fail('--digest must be 32 bytes as 64 hex digits');
    digest = new Uint8Array(Buffer.from(opts.digest.replace(/^0x/, ''), 'hex'));
  } else {
    digest = keccak_256(new TextEncoder().encode(opts.message));
  }
  return { ...opts, signers: sorted, digest };
}

const opts = parseArgs(process.argv.slice(2));
const level: SecurityLevel = levelByName(opts.level);
const started = performance.now();
const log = (msg: string): void => {
  if (!opts.json)
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);
};

async function primesFor(n: number): Promise<PrimePair[]> {
  if (opts.fixtures) {
    process.stderr.write(
      'demo: WARNING using the public TEST-ONLY fixture primes (--fixtures): this key is compromised by construction\n'
    );
    if (fixtureCount(level) < n)
      fail(`only ${fixtureCount(level)} fixture prime pairs at ${level.name}`);
    return Array.from({ length: n }, (_, i) => fixturePrimes(level, i));
  }
  log(`generating ${2 * n} fresh ${level.primeBits}-bit safe primes (off the main thread)…`);
  let done = 0;
  return Promise.all(
    Array.from({ length: n }, () =>
      generatePrimePair(level).then((pair) => {
        log(`  prime pairs ready: ${++done}/${n}`);
        return pair;
      })
    )
  );
}

async function main(): Promise<void> {
  const { t, n } = opts;
  // Identities: Ed25519 keys; the roster is sorted by party id (here: the public key bytes).
  const ids = Array.from({ length: n }, () => {
    const secretKey = new Uint8Array(randomBytes(32));
    return { secretKey, publicKey: ed25519PublicKey(secretKey) };
  }).sort((a, b) => Buffer.compare(Buffer.from(a.publicKey), Buffer.from(b.publicKey)));
  const roster = ids.map((id) => ({ partyId: id.publicKey, publicKey: id.publicKey }));
  const rosterKeys = roster.map((r) => r.publicKey);
  const parties = roster.map((_, i) => i);
  const primes = await primesFor(n);

  log(`key generation ${t}-of-${n} at ${level.name} (aux info + Feldman VSS + confirmation)…`);
  const kgStart = performance.now();
  const sessionId = computeSessionId({
    protocol: 'keygen',
    keyEpoch: 0,
    roster,
    t,
    n,
    level: level.name,
    nonce: new Uint8Array(randomBytes(32)),
  });
  const engines = new Map(
    parties.map((i) => {
      const { protocol, first } = startKeygen({
        level,
        roster,
        self: i,
        t,
        sessionId,
        primes: primes[i]!,
      });
      return [
        i,
        new RoundEngine(
          protocol,
          { sessionId, self: i, parties, rosterKeys, secretKey: ids[i]!.secretKey },
          first
        ),
      ];
    })
  );
  const kg = simulate(engines);
  if (kg.results.size !== n)
    fail(`key generation failed: ${JSON.stringify([...kg.aborts.values()])}`, 1);
  const shares = [...kg.results.values()] as KeyShare[];
  const keygenMs = performance.now() - kgStart;
  const share0 = shares[0]!;
  const pkHex = Buffer.from(share0.publicKey).toString('hex');
  const address = ethereumAddress(share0.publicKey);
  log(`key ${share0.keyId}: address ${address} (${(keygenMs / 1000).toFixed(1)} s)`);

  log(`presign + sign with parties ${opts.signers.join(', ')}…`);
  const sgStart = performance.now();
  const signSid = signDigestSessionId(share0, opts.signers, new Uint8Array(randomBytes(32)));
  const signEngines = new Map(
    opts.signers.map((i) => [
      i,
      signDigestEngine({
        keyShare: shares[i]!,
        signers: opts.signers,
        digest: opts.digest,
        sessionId: signSid,
        secretKey: ids[i]!.secretKey,
      }),
    ])
  );
  const sg = simulate(signEngines);
  if (sg.results.size !== t) fail(`signing failed: ${JSON.stringify([...sg.aborts.values()])}`, 1);
  const { signature } = [...sg.results.values()][0]!;
  const signMs = performance.now() - sgStart;

  const checks = {
    noble: nobleVerify(share0.publicKey, opts.digest, signature.r, signature.s),
    openssl: opensslVerify(share0.publicKey, opts.digest, signature.r, signature.s),
    ethersRecover:
      ethersRecover(opts.digest, signature.r, signature.s, signature.recid) === address,
  };
  const hex32 = (x: bigint): string => '0x' + x.toString(16).padStart(64, '0');
  const out = {
    level: level.name,
    threshold: t,
    parties: n,
    signers: opts.signers,
    keyId: share0.keyId,
    publicKey: '0x' + pkHex,
    address,
    digest: '0x' + Buffer.from(opts.digest).toString('hex'),
    signature: {
      r: hex32(signature.r),
      s: hex32(signature.s),
      v: signature.v,
      bytes65: '0x' + Buffer.from(signature.signature65).toString('hex'),
    },
    verified: checks,
    timingsMs: { keygen: Math.round(keygenMs), presignAndSign: Math.round(signMs) },
    testOnlyPrimes: opts.fixtures,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    process.stdout.write(
      [
        `key        ${out.keyId} (${t}-of-${n}, ${level.name})`,
        `public key ${out.publicKey}`,
        `address    ${address}`,
        `digest     ${out.digest}`,
        `signature  r = ${out.signature.r}`,
        `           s = ${out.signature.s}`,
        `           v = ${out.signature.v}`,
        `verified   @noble/curves: ${checks.noble ? 'ok' : 'FAILED'}, OpenSSL CLI: ${checks.openssl ? 'ok' : 'FAILED'}, ethers recovery: ${checks.ethersRecover ? 'ok' : 'FAILED'}`,
        `timings    keygen ${(keygenMs / 1000).toFixed(1)} s, presign+sign ${(signMs / 1000).toFixed(2)} s`,
        '',
      ].join('\n')
    );
  }
  if (!checks.noble || !checks.openssl || !checks.ethersRecover) process.exit(1);
}

await main();
