/**
 * Writes the TEST-ONLY keystore format fixtures tests/fixtures/keystore/v1.json (raw master key)
 * and v1-passphrase.json (passphrase through scrypt, logN 14): every raw LevelDB entry of a store
 * holding one record of every kind, plus the plaintext values that were written, so that
 * tests/keystore/format-v1.test.ts can prove later versions still read today's data.
 *
 * ONCE RELEASED THESE FILES MUST NEVER BE REGENERATED: they pin the v1 on-disk format. A format
 * change adds v2 fixtures (and a v2 generator) and keeps the v1 files and tests as they are. This
 * script therefore refuses to overwrite an existing fixture unless given `--force`.
 *
 * The master key, passphrase and every record below are public test material: nothing built on
 * them protects anything.
 *
 * Usage: npx tsx scripts/gen-keystore-fixture.ts [--force]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { Keystore, type MasterKeySource } from '../keystore/index.js';

/** TEST-ONLY master key: 32 bytes of 0x11. Public; never use it for anything real. */
const FIXTURE_MASTER_KEY_HEX = '11'.repeat(32);
/** TEST-ONLY passphrase of the passphrase-keyed fixture. Public. */
const FIXTURE_PASSPHRASE = 'TEST-ONLY fixture passphrase, public';
/** scrypt parameters of the passphrase fixture (the smallest the keystore accepts). */
const FIXTURE_SCRYPT = { logN: 14, r: 8, p: 1 } as const;
const FIXTURE_PARTY = 'fixture-party';
/** The clock every `new Date()` of the keystore sees while the fixture is written. */
const FIXTURE_NOW = '2026-01-02T03:04:05.000Z';

const WARNING =
  'TEST MATERIAL ONLY. The master key / passphrase here is public, so every record is readable ' +
  'by anyone. Pins keystore on-disk format v1: NEVER regenerate once released; a format change ' +
  'adds v2 fixtures and keeps these. Written by scripts/gen-keystore-fixture.ts.';

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const KEY_ID = 'fixture-key-1';
/** Epoch 0: recognisable text; epoch 1: every byte value 0x00..0xff (pins the base64 codec). */
const SHARE_E0 = ascii('TEST-ONLY key share fixture-key-1 epoch 0');
const SHARE_E1 = Uint8Array.from({ length: 256 }, (_, i) => i);
const AUX_ID = 'fixture-aux';
const AUX = ascii('TEST-ONLY aux info fixture-aux epoch 1 (Paillier primes would go here)');
const PRESIG_FRESH = 'fixture-presig-fresh';
const PRESIG_FRESH_DATA = ascii('TEST-ONLY presignature fixture-presig-fresh (still fresh)');
const PRESIG_CONSUMED = 'fixture-presig-consumed';
const PRESIG_CONSUMED_DATA = ascii('TEST-ONLY presignature fixture-presig-consumed (gone)');
/** libp2p-style Ed25519 private key protobuf: type 1, 64 bytes of 0x22. */
const IDENTITY = Uint8Array.from([0x08, 0x01, 0x12, 0x40, ...new Array<number>(64).fill(0x22)]);
const SID_1 = new Uint8Array(32).fill(0xa1);
const SID_2 = Uint8Array.from({ length: 32 }, (_, i) => i);
const JOURNAL = {
  sid: hex(SID_1),
  protocol: 'cggmp21/sign',
  state: 'done',
  updatedAt: '2026-01-02T03:04:00.000Z',
  detail: 'TEST-ONLY fixture journal entry',
} as const;

/** What a fixture says was written (byte strings as hex). */
function expected(kdf: Record<string, unknown> | undefined) {
  return {
    meta: {
      format: 1,
      partyId: FIXTURE_PARTY,
      createdAt: FIXTURE_NOW,
      ...(kdf ? { kdf } : {}),
    },
    keyShares: [
      { keyId: KEY_ID, epoch: 0, dataHex: hex(SHARE_E0) },
      { keyId: KEY_ID, epoch: 1, dataHex: hex(SHARE_E1) },
    ],
    auxInfo: [{ auxId: AUX_ID, epoch: 1, dataHex: hex(AUX) }],
    presignatures: [
      {
        presigId: PRESIG_FRESH,
        keyId: KEY_ID,
        epoch: 1,
        state: 'fresh',
        dataHex: hex(PRESIG_FRESH_DATA),
      },
      {
        presigId: PRESIG_CONSUMED,
        keyId: KEY_ID,
        epoch: 1,
        state: 'consumed',
        consumedAt: FIXTURE_NOW,
      },
    ],
    identityHex: hex(IDENTITY),
    journal: [JOURNAL],
    sessionIds: [
      { sidHex: hex(SID_1), at: FIXTURE_NOW },
      { sidHex: hex(SID_2), at: FIXTURE_NOW },
    ],
  };
}

async function writeRecords(ks: Keystore): Promise<void> {
  await ks.putKeyShare({ keyId: KEY_ID, epoch: 0, data: SHARE_E0 });
  await ks.putKeyShare({ keyId: KEY_ID, epoch: 1, data: SHARE_E1 });
  await ks.putAuxInfo({ auxId: AUX_ID, epoch: 1, data: AUX });
  await ks.putPresignature({
    presigId: PRESIG_FRESH,
    keyId: KEY_ID,
    epoch: 1,
    data: PRESIG_FRESH_DATA,
  });
  await ks.putPresignature({
    presigId: PRESIG_CONSUMED,
    keyId: KEY_ID,
    epoch: 1,
    data: PRESIG_CONSUMED_DATA,
  });
  await ks.consumePresignature(PRESIG_CONSUMED);
  await ks.putIdentity(IDENTITY);
  await ks.putJournal(JOURNAL);
  await ks.recordSessionId(SID_1);
  await ks.recordSessionId(SID_2);
}

/** Every raw entry of the whole database (sublevel prefixes included), in key order. */
async function dump(dir: string): Promise<Array<{ key: string; valueBase64: string }>> {
  const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.open();
  try {
    const out: Array<{ key: string; valueBase64: string }> = [];
    for await (const [key, value] of db.iterator()) {
      out.push({ key, valueBase64: Buffer.from(value).toString('base64') });
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Run `fn` with `new Date()` / `Date.now()` pinned to FIXTURE_NOW (recognisable timestamps). */
async function withFixedClock<T>(fn: () => Promise<T>): Promise<T> {
  const RealDate = Date;
  const now = RealDate.parse(FIXTURE_NOW);
  class FixedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now);
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now;
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

async function generate(
  file: string,
  source: MasterKeySource,
  keying: Record<string, unknown>
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mpcd-keystore-fixture-'));
  try {
    const ks = await withFixedClock(() =>
      Keystore.open({
        dir,
        source,
        create: true,
        partyId: FIXTURE_PARTY,
        ...(source.kind === 'passphrase' ? { scrypt: FIXTURE_SCRYPT } : {}),
      })
    );
    try {
      await withFixedClock(() => writeRecords(ks));
    } finally {
      await ks.close();
    }
    const kdf = ks.meta.kdf;
    const doc = {
      WARNING,
      format: 1,
      ...keying,
      partyId: FIXTURE_PARTY,
      entries: await dump(dir),
      expect: expected(kdf),
    };
    writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
    process.stderr.write(`wrote ${file} (${doc.entries.length} entries)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const outDir = fileURLToPath(new URL('../tests/fixtures/keystore/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const targets = [
    {
      file: join(outDir, 'v1.json'),
      source: {
        kind: 'key',
        key: { bytes: new Uint8Array(Buffer.from(FIXTURE_MASTER_KEY_HEX, 'hex')) },
      } as const,
      keying: { masterKeyHex: FIXTURE_MASTER_KEY_HEX },
    },
    {
      file: join(outDir, 'v1-passphrase.json'),
      source: { kind: 'passphrase', passphrase: FIXTURE_PASSPHRASE } as const,
      keying: { passphrase: FIXTURE_PASSPHRASE, scrypt: FIXTURE_SCRYPT },
    },
  ];
  const force = process.argv.includes('--force');
  for (const t of targets) {
    if (existsSync(t.file) && !force) {
      process.stderr.write(
        `${t.file} exists: released format fixtures are never regenerated (see the header of ` +
          `this script). A format change adds v2 fixtures; --force only for an unreleased v1.\n`
      );
      process.exitCode = 1;
      continue;
    }
    await generate(t.file, t.source, t.keying);
  }
}

await main();
