/**
 * Keystore throughput (issue 4): ops/s of the record operations of a signing node, and the time to
 * open a store (key check; for a passphrase store, scrypt first), on a store in a temporary
 * directory that is removed at the end.
 *
 * Every keystore write is one LevelDB batch with `sync: true` (an fsync before it resolves), so the
 * write figures measure the disk's flush latency as much as the code: each figure names the file
 * system it ran on (`fs`); on a tmpfs an fsync costs nothing and the write figures are meaningless.
 * Operations run one after another (each awaited), as one session does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SCRYPT, Keystore, type MasterKeySource } from '../keystore/index.js';
import { QUICK, measureAsync, note, report, round, type Figure } from './harness.js';

const DATA_BYTES = 2048;
const SAMPLES = QUICK ? 3 : 5;
const MIN_SAMPLE_MS = QUICK ? 100 : 400;
const PARTY = 'bench-party';
/** Benchmark-only master key and passphrase (random per run: the store is deleted at the end). */
const RAW: MasterKeySource = { kind: 'key', key: { bytes: new Uint8Array(randomBytes(32)) } };
const PASSPHRASE: MasterKeySource = {
  kind: 'passphrase',
  passphrase: `bench ${randomBytes(12).toString('hex')}`,
};

/** Name of the file system holding `dir` (from statfs's magic number). */
function fsName(dir: string): string {
  const type = statfsSync(dir).type;
  const known: Record<number, string> = {
    0xef53: 'ext4',
    0x01021994: 'tmpfs',
    0x58465342: 'xfs',
    0x9123683e: 'btrfs',
    0x794c7630: 'overlayfs',
    0x2fc12fc1: 'zfs',
  };
  return known[type] ?? `0x${type.toString(16)}`;
}

export async function benchKeystore(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'mpcd-bench-keystore-'));
  try {
    await run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function run(root: string): Promise<void> {
  const fs = fsName(root);
  note(`keystore in ${root} (${fs}); every write fsynced`);
  const emit = (op: string, medianMs: number, extra: Omit<Figure, 'bench'> = {}): void =>
    report({
      bench: 'keystore',
      op,
      opsPerSec: round(1000 / medianMs, 1),
      medianMs: round(medianMs, 4),
      ...extra,
      fs,
    });
  const opts = { samples: SAMPLES, minSampleMs: MIN_SAMPLE_MS };
  const data = new Uint8Array(randomBytes(DATA_BYTES));
  const dir = join(root, 'raw');
  const ks = await Keystore.open({ dir, source: RAW, create: true, partyId: PARTY });
  try {
    // putKeyShare: a new key id each time (the newest-epoch check finds nothing, then one write).
    let keys = 0;
    const putShare = await measureAsync(
      () => ks.putKeyShare({ keyId: `key-${keys++}`, epoch: 0, data }),
      opts
    );
    emit('putKeyShare', putShare.medianMs, { dataBytes: DATA_BYTES, synced: true });

    // getKeyShare without an epoch: the newest of three epochs, among all the keys above.
    for (let epoch = 0; epoch < 3; epoch++) {
      await ks.putKeyShare({ keyId: 'key-target', epoch, data });
    }
    const get = await measureAsync(async () => {
      const share = await ks.getKeyShare('key-target');
      if (share?.epoch !== 2) throw new Error('bench: getKeyShare did not find the newest epoch');
    }, opts);
    emit('getKeyShare', get.medianMs, {
      lookup: 'newest of 3 epochs',
      dataBytes: DATA_BYTES,
      storedKeyShares: keys + 3,
    });

    // putPresignature: a new id each time (existence check, then one write).
    let presigs = 0;
    const putPresig = await measureAsync(
      () =>
        ks.putPresignature({
          presigId: `presig-${presigs++}`,
          keyId: 'key-target',
          epoch: 2,
          data,
        }),
      opts
    );
    emit('putPresignature', putPresig.medianMs, { dataBytes: DATA_BYTES, synced: true });

    // consumePresignature: every call takes a fresh presignature, all created before timing. The
    // pool covers the whole measurement even if consuming ran 3× faster than the faster of the two
    // puts (margin for a machine that was busy while they ran); running dry is an error, never a
    // silent measurement of the NOT_FOUND path.
    const fastestPutMs = Math.min(putPresig.medianMs, putShare.medianMs);
    const need = Math.ceil((SAMPLES * MIN_SAMPLE_MS) / (fastestPutMs / 3)) + SAMPLES + 2;
    if (presigs < need) note(`creating ${need - presigs} more presignatures for consume`);
    while (presigs < need) {
      await ks.putPresignature({
        presigId: `presig-${presigs++}`,
        keyId: 'key-target',
        epoch: 2,
        data,
      });
    }
    let next = 0;
    const consume = await measureAsync(async () => {
      if (next >= presigs) throw new Error('bench: the presignature pool ran dry');
      await ks.consumePresignature(`presig-${next++}`);
    }, opts);
    emit('consumePresignature', consume.medianMs, {
      dataBytes: DATA_BYTES,
      synced: true,
      poolSize: presigs,
      consumed: next,
    });

    // listFreshPresignatures: the fresh/consumed state lives inside each sealed value, so listing
    // decrypts every presignature record of the store, tombstones included.
    const list = await measureAsync(() => ks.listFreshPresignatures('key-target'), {
      samples: SAMPLES,
      minSampleMs: MIN_SAMPLE_MS / 4,
    });
    emit('listFreshPresignatures', list.medianMs, {
      presignatureRecords: presigs,
      fresh: presigs - next,
    });

    // recordSessionId: a new 32-byte sid each time (existence check, then one write).
    const prefix = randomBytes(24);
    let sids = 0;
    const sid = await measureAsync(() => {
      const s = Buffer.alloc(32);
      prefix.copy(s);
      s.writeBigUInt64BE(BigInt(sids++), 24);
      return ks.recordSessionId(s);
    }, opts);
    emit('recordSessionId', sid.medianMs, { synced: true });
  } finally {
    await ks.close();
  }

  // Open (LevelDB open, meta reads, key check) of a small store keyed by a raw master key and of
  // one keyed by a passphrase (default scrypt), timed alone: each close is outside the timing.
  const small = join(root, 'small-raw');
  const pass = join(root, 'small-passphrase');
  for (const [d, source] of [
    [small, RAW],
    [pass, PASSPHRASE],
  ] as const) {
    const s = await Keystore.open({ dir: d, source, create: true, partyId: PARTY });
    await s.putKeyShare({ keyId: 'key-0', epoch: 0, data });
    await s.close();
  }
  const raw = await timeOpen(small, RAW, QUICK ? 5 : 21);
  emit('open', raw, { source: 'rawKey' });
  const pp = await timeOpen(pass, PASSPHRASE, QUICK ? 3 : 9);
  emit('open', pp, { source: 'passphrase', scrypt: DEFAULT_SCRYPT });
  // The store the throughput figures filled (its write-ahead log already flushed by the close).
  const populated = await timeOpen(dir, RAW, QUICK ? 3 : 9);
  emit('open', populated, { source: 'rawKey', store: 'populated by the figures above' });
}

/** Median time of `Keystore.open` (one warm-up, then `n` timed opens, each closed untimed). */
async function timeOpen(dir: string, source: MasterKeySource, n: number): Promise<number> {
  await (await Keystore.open({ dir, source })).close();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const s = await Keystore.open({ dir, source });
    times.push(performance.now() - start);
    await s.close();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
