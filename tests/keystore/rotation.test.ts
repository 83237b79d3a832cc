/**
 * Master-key rotation: interrupted after every single record (a throwing `onProgress` aborts the
 * run like a crash), then checked at the raw level, refused by a normal open, and resumed; plus
 * rotations between raw keys and passphrases, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { deriveStoreKeys } from '../../keystore/encryption.js';
import {
  rotateMasterKey,
  type MasterKeySource,
  type RotationResult,
} from '../../keystore/index.js';
import { jsonBytes, makeCheck } from '../../keystore/keystore.js';
import { RECORD_KINDS } from '../../keystore/records.js';
import {
  FAST_SCRYPT,
  POPULATED_RECORDS,
  expectPopulated,
  fingerprintHex,
  masterOf,
  pass,
  populate,
  randomKey,
  randomPassphrase,
  rejectsWith,
  useHarness,
  withRaw,
  type Populated,
} from './helpers/ks.js';

const h = useHarness();
const N = POPULATED_RECORDS;

/** A closed, populated store keyed by `from`. */
async function populated(from: MasterKeySource): Promise<{ dir: string; p: Populated }> {
  const { ks, dir } = await h.create(from);
  const p = await populate(ks);
  expect(
    (await Promise.all(RECORD_KINDS.map((k) => ks.sublevel(k).keys().all()))).flat()
  ).toHaveLength(N);
  await ks.close();
  return { dir, p };
}

type Kdf = { logN: number; r: number; p: number; salt: string };

/** The fingerprint `source` has in the (closed, not mid-rotation) store in `dir`, from its meta. */
async function fingerprintIn(dir: string, source: MasterKeySource): Promise<string> {
  return withRaw(dir, async (raw) => {
    const meta = (await raw.storeMeta()) as { salt: string; kdf?: Kdf };
    return fingerprintHex(await masterOf(source, meta.kdf), meta.salt);
  });
}

/** A completed run's result, its fingerprint checked against the store: `to` is now its key. */
async function rotated(
  dir: string,
  opts: Omit<Parameters<typeof rotateMasterKey>[0], 'dir'>
): Promise<Omit<RotationResult, 'fingerprint'>> {
  const { fingerprint, ...rest } = await rotateMasterKey({ dir, ...opts });
  expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
  expect(fingerprint).toBe(await fingerprintIn(dir, opts.to));
  return rest;
}

/**
 * Fingerprint of every record at the raw level, as 'old' / 'new' (fails on anything else), and
 * the pending rotation state.
 */
async function rawState(
  dir: string,
  from: MasterKeySource,
  to: MasterKeySource
): Promise<{ old: number; new: number; rotation: { to: string; kdf?: Kdf } | undefined }> {
  return withRaw(dir, async (raw) => {
    const meta = (await raw.storeMeta()) as { salt: string; kdf?: Kdf };
    const rotationRaw = await raw.sub('meta').get('rotation');
    const rotation = rotationRaw
      ? (JSON.parse(Buffer.from(rotationRaw).toString('utf8')) as { to: string; kdf?: Kdf })
      : undefined;
    // the new key's scrypt parameters live in the pending rotation until it completes
    const oldKdf = rotation ? meta.kdf : undefined;
    const newKdf = rotation ? rotation.kdf : meta.kdf;
    const fpOld =
      from.kind === 'key' || oldKdf ? fingerprintHex(await masterOf(from, oldKdf), meta.salt) : '';
    const fpNew = fingerprintHex(await masterOf(to, newKdf), meta.salt);
    if (rotation) expect(rotation.to).toBe(fpNew);
    const counts = { old: 0, new: 0 };
    for (const kind of RECORD_KINDS) {
      for (const [key, value] of await raw.entries(kind)) {
        const fp = value.subarray(1, 9).toString('hex');
        expect([fpOld, fpNew], `${kind}/${key} carries one of the two fingerprints`).toContain(fp);
        counts[fp === fpNew ? 'new' : 'old']++;
      }
    }
    return { ...counts, rotation };
  });
}

/** A rotation that throws after the `k`-th progress call; returns the progress calls seen. */
async function interrupt(
  dir: string,
  from: MasterKeySource,
  to: MasterKeySource,
  k: number,
  scrypt?: { logN: number; r: number; p: number }
): Promise<Array<[number, number]>> {
  const calls: Array<[number, number]> = [];
  await expect(
    rotateMasterKey({
      dir,
      from,
      to,
      ...(scrypt ? { scrypt } : {}),
      onProgress: (done, total) => {
        calls.push([done, total]);
        if (done === k) throw new Error(`simulated crash after record ${k}`);
      },
    })
  ).rejects.toThrow(`simulated crash after record ${k}`);
  return calls;
}

describe('rotation interrupted after every record', () => {
  it.each(Array.from({ length: N }, (_, i) => i + 1))(
    `crash after record %i of ${N}: refused, half old / half new, resumed, complete`,
    async (k) => {
      const from = randomKey();
      const to = randomKey();
      const { dir, p } = await populated(from);

      const calls = await interrupt(dir, from, to, k);
      expect(calls).toEqual(Array.from({ length: k }, (_, i) => [i + 1, N]));

      // a normal open refuses the half-rotated store with either key (and with any other)
      await rejectsWith(h.open({ dir, source: from }), 'ROTATION_IN_PROGRESS', 'run it again');
      await rejectsWith(h.open({ dir, source: to }), 'ROTATION_IN_PROGRESS');

      // every record opens with exactly one of the two keys: the first k with the new one
      expect(await rawState(dir, from, to)).toMatchObject({ old: N - k, new: k });

      // finishing with another new key is refused and changes nothing
      await rejectsWith(
        rotateMasterKey({ dir, from, to: randomKey() }),
        'WRONG_MASTER_KEY',
        'different new key'
      );
      expect(await rawState(dir, from, to)).toMatchObject({ old: N - k, new: k });
      // so is a wrong old key
      await rejectsWith(rotateMasterKey({ dir, from: randomKey(), to }), 'WRONG_MASTER_KEY');

      // re-running with the same keys finishes the job
      expect(await rotated(dir, { from, to })).toEqual({
        resealed: N - k,
        alreadyComplete: false,
        resumed: true,
      });
      expect(await rawState(dir, from, to)).toEqual({ old: 0, new: N, rotation: undefined });

      const ks = await h.open({ dir, source: to });
      await expectPopulated(ks, p);
      await ks.close();
      await rejectsWith(h.open({ dir, source: from }), 'WRONG_MASTER_KEY');

      // and once more: already complete, nothing touched
      expect(await rotated(dir, { from, to })).toEqual({
        resealed: 0,
        alreadyComplete: true,
        resumed: false,
      });
      const again = await h.open({ dir, source: to });
      await expectPopulated(again, p);
    }
  );

  it('a crash right after step 1 (rotation recorded, no record re-sealed) resumes', async () => {
    // onProgress only runs after a record, so write step 1's meta/rotation as rotation.ts does.
    const from = randomKey();
    const to = randomKey();
    const { dir, p } = await populated(from);
    await withRaw(dir, async (raw) => {
      const meta = await raw.storeMeta();
      const keys = deriveStoreKeys(to.key, Buffer.from(meta.salt, 'base64'));
      await raw.put(
        'meta',
        'rotation',
        jsonBytes({
          to: keys.fingerprint.toString('hex'),
          check: makeCheck(keys, meta.partyId).toString('base64'),
        })
      );
    });
    await rejectsWith(h.open({ dir, source: from }), 'ROTATION_IN_PROGRESS');
    await rejectsWith(h.open({ dir, source: to }), 'ROTATION_IN_PROGRESS');
    expect(await rawState(dir, from, to)).toMatchObject({ old: N, new: 0 });
    expect(await rotated(dir, { from, to })).toEqual({
      resealed: N,
      alreadyComplete: false,
      resumed: true,
    });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });

  it('survives several successive crashes before it completes', async () => {
    const from = randomKey();
    const to = randomKey();
    const { dir, p } = await populated(from);
    for (const k of [2, 5, 9]) {
      await interrupt(dir, from, to, k);
      expect(await rawState(dir, from, to)).toMatchObject({ old: N - k, new: k });
    }
    expect(await rotated(dir, { from, to })).toEqual({
      resealed: N - 9,
      alreadyComplete: false,
      resumed: true,
    });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });

  it('records written after a completed rotation carry the new fingerprint', async () => {
    const from = randomKey();
    const to = randomKey();
    const { dir, p } = await populated(from);
    await rotateMasterKey({ dir, from, to });
    const ks = await h.open({ dir, source: to });
    await ks.putKeyShare({ keyId: 'k1', epoch: 2, data: new Uint8Array([42]) });
    expect((await ks.consumePresignature('p1')).data).toEqual(p.presigs[0]!.data);
    await ks.close();
    expect(await rawState(dir, from, to)).toEqual({ old: 0, new: N + 1, rotation: undefined });
  });
});

describe('what a run reports', () => {
  it('the fingerprint returned is the one every re-sealed value carries', async () => {
    const from = randomKey();
    const to = pass(randomPassphrase());
    const { dir } = await populated(from);
    const { fingerprint } = await rotateMasterKey({ dir, from, to, scrypt: FAST_SCRYPT });
    const carried = await withRaw(dir, async (raw) => {
      const fps = new Set<string>();
      for (const kind of RECORD_KINDS) {
        for (const [, value] of await raw.entries(kind))
          fps.add(value.subarray(1, 9).toString('hex'));
      }
      return [...fps];
    });
    expect(carried).toEqual([fingerprint]);
  });

  it('a wrong old key on a store already under the new key: nothing to do, nothing written', async () => {
    // The store was never under `wrongOld`, yet the run cannot tell that from a rotation an
    // earlier run completed (the store keeps no trace of old keys): it reports only that the
    // store is already keyed by `to`, writes nothing, and claims no resumed rotation.
    const to = randomKey();
    const { dir, p } = await populated(to);
    const raw = () =>
      withRaw(dir, async (r) =>
        Promise.all([...RECORD_KINDS, 'meta' as const].map((k) => r.entries(k)))
      );
    const before = await raw();
    expect(await rotated(dir, { from: randomKey(), to })).toEqual({
      resealed: 0,
      alreadyComplete: true,
      resumed: false,
    });
    expect(await raw()).toEqual(before);
    await expectPopulated(await h.open({ dir, source: to }), p);
  });

  it('a wrong old key with the new key of an interrupted rotation is refused, not "complete"', async () => {
    // `to` cannot open a store with a pending rotation, so this is never taken for a finished
    // one: the wrong `from` is reported, and the right pair still finishes the rotation.
    const from = randomKey();
    const to = randomKey();
    const { dir, p } = await populated(from);
    await interrupt(dir, from, to, 3);
    await rejectsWith(
      rotateMasterKey({ dir, from: randomKey(), to }),
      'WRONG_MASTER_KEY',
      'does not open the store'
    );
    expect(await rawState(dir, from, to)).toMatchObject({ old: N - 3, new: 3 });
    expect(await rotated(dir, { from, to })).toEqual({
      resealed: N - 3,
      alreadyComplete: false,
      resumed: true,
    });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });
});

describe('rotation between raw keys and passphrases', () => {
  it('raw key → passphrase', async () => {
    const from = randomKey();
    const to = pass(randomPassphrase());
    const { dir, p } = await populated(from);
    expect(await rotated(dir, { from, to, scrypt: FAST_SCRYPT })).toEqual({
      resealed: N,
      alreadyComplete: false,
      resumed: false,
    });
    const ks = await h.open({ dir, source: to });
    expect(ks.meta.kdf).toMatchObject(FAST_SCRYPT);
    await expectPopulated(ks, p);
    await ks.close();
    await rejectsWith(h.open({ dir, source: from }), 'WRONG_MASTER_KEY');
    expect(await rotated(dir, { from, to })).toMatchObject({ alreadyComplete: true });
  });

  it('passphrase → raw key', async () => {
    const from = pass(randomPassphrase());
    const to = randomKey();
    const { dir, p } = await populated(from);
    expect(await rotated(dir, { from, to })).toEqual({
      resealed: N,
      alreadyComplete: false,
      resumed: false,
    });
    const ks = await h.open({ dir, source: to });
    expect(ks.meta.kdf).toBeUndefined();
    await expectPopulated(ks, p);
    await ks.close();
    await rejectsWith(h.open({ dir, source: from }), 'WRONG_MASTER_KEY', 'raw master key');
    expect(await rotated(dir, { from, to })).toMatchObject({ alreadyComplete: true });
  });

  it('passphrase → passphrase (new salt), and the same passphrase re-salted', async () => {
    const from = pass(randomPassphrase());
    const to = pass(randomPassphrase());
    const { dir, p } = await populated(from);
    const before = await withRaw(dir, async (raw) => (await raw.storeMeta()).kdf as Kdf);
    await rotateMasterKey({ dir, from, to, scrypt: FAST_SCRYPT });
    const after = await withRaw(dir, async (raw) => (await raw.storeMeta()).kdf as Kdf);
    expect(after.salt).not.toBe(before.salt);
    await rejectsWith(h.open({ dir, source: from }), 'WRONG_MASTER_KEY');
    const ks = await h.open({ dir, source: to });
    await expectPopulated(ks, p);
    await ks.close();
    // the same passphrase under a fresh scrypt salt is a new master key: allowed
    expect(await rotateMasterKey({ dir, from: to, to, scrypt: FAST_SCRYPT })).toMatchObject({
      resealed: N,
    });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });

  it('interrupted raw key → passphrase: normal open refused with both, resumed with the pending salt', async () => {
    const from = randomKey();
    const to = pass(randomPassphrase());
    const { dir, p } = await populated(from);
    await interrupt(dir, from, to, 4, FAST_SCRYPT);
    const state = await rawState(dir, from, to);
    expect(state).toMatchObject({ old: N - 4, new: 4 });
    expect(state.rotation?.kdf).toMatchObject(FAST_SCRYPT);
    await rejectsWith(h.open({ dir, source: from }), 'ROTATION_IN_PROGRESS');
    // a re-run with other scrypt parameters still uses the ones the rotation started with
    expect(
      await rotateMasterKey({ dir, from, to, scrypt: { logN: 15, r: 8, p: 1 } })
    ).toMatchObject({ resealed: N - 4 });
    const ks = await h.open({ dir, source: to });
    expect(ks.meta.kdf).toEqual(state.rotation!.kdf);
    await expectPopulated(ks, p);
  });

  it('interrupted raw key → passphrase: opening with the NEW passphrase says ROTATION_IN_PROGRESS', async () => {
    const from = randomKey();
    const to = pass(randomPassphrase());
    const { dir } = await populated(from);
    await interrupt(dir, from, to, 4, FAST_SCRYPT);
    // The operator tries the new passphrase: the answer must be "finish the rotation", not
    // "this store is keyed by a raw master key" (which sends them looking for the wrong thing).
    await rejectsWith(h.open({ dir, source: to }), 'ROTATION_IN_PROGRESS');
  });

  it('interrupted passphrase → raw key: refused with both, then resumed', async () => {
    const from = pass(randomPassphrase());
    const to = randomKey();
    const { dir, p } = await populated(from);
    await interrupt(dir, from, to, 7);
    expect(await rawState(dir, from, to)).toMatchObject({ old: N - 7, new: 7 });
    await rejectsWith(h.open({ dir, source: from }), 'ROTATION_IN_PROGRESS');
    await rejectsWith(h.open({ dir, source: to }), 'ROTATION_IN_PROGRESS');
    await rejectsWith(rotateMasterKey({ dir, from, to: randomKey() }), 'WRONG_MASTER_KEY');
    expect(await rotateMasterKey({ dir, from, to })).toMatchObject({ resealed: N - 7 });
    await expectPopulated(await h.open({ dir, source: to }), p);
  });
});

describe('rotation refusals', () => {
  it('to the same raw key → INVALID_RECORD, nothing written', async () => {
    const from = randomKey();
    const { dir, p } = await populated(from);
    const same: MasterKeySource = { kind: 'key', key: { bytes: new Uint8Array(from.key.bytes) } };
    await rejectsWith(
      rotateMasterKey({ dir, from, to: same }),
      'INVALID_RECORD',
      'equals the current'
    );
    expect(await rawState(dir, from, randomKey())).toMatchObject({ new: 0, rotation: undefined });
    await expectPopulated(await h.open({ dir, source: from }), p);
  });

  it('with a wrong current key → WRONG_MASTER_KEY, nothing written', async () => {
    const from = randomKey();
    const to = randomKey();
    const { dir, p } = await populated(from);
    await rejectsWith(rotateMasterKey({ dir, from: randomKey(), to }), 'WRONG_MASTER_KEY');
    await rejectsWith(
      rotateMasterKey({ dir, from: pass(randomPassphrase()), to }),
      'WRONG_MASTER_KEY'
    );
    expect(await rawState(dir, from, to)).toMatchObject({ old: N, new: 0, rotation: undefined });
    await expectPopulated(await h.open({ dir, source: from }), p);
  });

  it('to a passphrase that is too short → INVALID_MASTER_KEY, nothing written', async () => {
    const from = randomKey();
    const { dir } = await populated(from);
    await rejectsWith(
      rotateMasterKey({ dir, from, to: pass('short'), scrypt: FAST_SCRYPT }),
      'INVALID_MASTER_KEY'
    );
    await h.open({ dir, source: from });
  });

  it('while the store is open → STORE_LOCKED; on a missing store → STORE_MISSING', async () => {
    const { ks, dir, source } = await h.create();
    await rejectsWith(rotateMasterKey({ dir, from: source, to: randomKey() }), 'STORE_LOCKED', dir);
    await ks.close();
    await rejectsWith(
      rotateMasterKey({ dir: h.missingDir(), from: source, to: randomKey() }),
      'STORE_MISSING'
    );
  });

  it('an empty store rotates (only the key check changes)', async () => {
    const { ks, dir, source } = await h.create();
    await ks.close();
    const to = randomKey();
    expect(await rotated(dir, { from: source, to })).toEqual({
      resealed: 0,
      alreadyComplete: false,
      resumed: false,
    });
    await h.open({ dir, source: to });
  });
});
