/**
 * Master-key rotation: re-encrypt every record under a new master key, crash-safely.
 *
 * 1. Write the `rotation` meta record (new key's fingerprint, its key-check value, its scrypt
 *    parameters) — one synced write.
 * 2. Re-seal every record still under the old key, one synced write each. Every value carries the
 *    fingerprint of the key that sealed it, so at any moment each record opens with exactly one
 *    of the two keys.
 * 3. One synced batch: the new key check and scrypt parameters replace the old, `rotation` goes.
 *
 * A crash anywhere leaves a store that refuses normal opening (ROTATION_IN_PROGRESS) and that a
 * re-run with the same old and new key finishes (`resumed`). A re-run after step 3 finds the store
 * already keyed by the new key (`alreadyComplete`); the old key is not checked then, since the
 * store no longer knows it.
 * @module
 */
import { KeystoreError } from './errors.js';
import { deriveStoreKeys, envelopeFingerprint } from './encryption.js';
import {
  jsonBytes,
  Keystore,
  makeCheck,
  newKdf,
  readJson,
  resolveKey,
  type RotationState,
  type StoreMeta,
} from './keystore.js';
import type { MasterKeySource } from './master-key.js';
import { RECORD_KINDS } from './records.js';

/** Options of {@link rotateMasterKey}. */
export interface RotationOptions {
  readonly dir: string;
  /** The current master key (or passphrase). */
  readonly from: MasterKeySource;
  /** The new master key (or passphrase). */
  readonly to: MasterKeySource;
  /** scrypt parameters when `to` is a passphrase. */
  readonly scrypt?: { logN: number; r: number; p: number };
  /** Progress after each re-sealed record (a CLI shows it; a throw aborts like a crash). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Outcome of a rotation run. */
export interface RotationResult {
  /** Records re-sealed by this run. */
  readonly resealed: number;
  /**
   * The store was already keyed by `to` when this run began: `from` did not open it, `to` did,
   * and nothing was written. An earlier run may have finished this rotation (a re-run, or a
   * crash after step 3), or `from` may simply be wrong: after step 3 the store keeps no trace of
   * its old key, so this says nothing about `from`.
   */
  readonly alreadyComplete: boolean;
  /** This run finished a rotation that an interrupted run had started with the same keys. */
  readonly resumed: boolean;
  /**
   * The fingerprint of `to` in this store, 16 hex digits: HKDF of the key and the store's salt,
   * not secret (every stored value carries it) and different in every store.
   */
  readonly fingerprint: string;
}

/**
 * Rotate (or finish rotating) the master key of the store in `opts.dir`.
 * @returns what this run did, and the new key's fingerprint
 * @throws KeystoreError WRONG_MASTER_KEY (neither key fits, or `to` is not the key an interrupted
 *   rotation started with), INVALID_RECORD (same key), STORE_LOCKED, or what `onProgress` throws.
 * @example
 * const { resealed, fingerprint } = await rotateMasterKey({ dir, from: oldSource, to: newSource });
 */
export async function rotateMasterKey(opts: RotationOptions): Promise<RotationResult> {
  let store: Keystore;
  try {
    store = await Keystore.openInternal({ dir: opts.dir, source: opts.from }, true);
  } catch (err) {
    if (!(err instanceof KeystoreError) || err.code !== 'WRONG_MASTER_KEY') throw err;
    // `from` does not open the store. If `to` opens it normally (no rotation pending), the store
    // is already keyed by `to`: completed by an earlier run (step 3 done), or never under `from`.
    // Either way there is nothing to do; a pending rotation makes this open fail, and the
    // caller gets the wrong `from` key reported.
    const done = await Keystore.open({ dir: opts.dir, source: opts.to }).catch(() => undefined);
    if (!done) throw err;
    try {
      const salt = Buffer.from(done.meta.salt, 'base64');
      const { fingerprint } = deriveStoreKeys(await resolveKey(opts.to, done.meta.kdf), salt);
      return {
        resealed: 0,
        alreadyComplete: true,
        resumed: false,
        fingerprint: fingerprint.toString('hex'),
      };
    } finally {
      await done.close();
    }
  }
  try {
    return await rotate(store, opts);
  } finally {
    await store.close();
  }
}

async function rotate(store: Keystore, opts: RotationOptions): Promise<RotationResult> {
  const meta = store.sublevel('meta');
  const salt = Buffer.from(store.meta.salt, 'base64');
  const oldKeys = deriveStoreKeys(await resolveKey(opts.from, store.meta.kdf), salt);
  const pending = await readJson<RotationState>(meta, 'rotation');
  const kdf = pending ? pending.kdf : newKdf(opts.to, opts.scrypt);
  const newKeys = deriveStoreKeys(await resolveKey(opts.to, kdf), salt);
  if (newKeys.fingerprint.equals(oldKeys.fingerprint)) {
    throw new KeystoreError('INVALID_RECORD', 'the new master key equals the current one');
  }
  let state = pending;
  if (state) {
    if (state.to !== newKeys.fingerprint.toString('hex')) {
      throw new KeystoreError(
        'WRONG_MASTER_KEY',
        'the interrupted rotation was started with a different new key: use that key to finish it'
      );
    }
  } else {
    state = {
      to: newKeys.fingerprint.toString('hex'),
      check: makeCheck(newKeys, store.partyId).toString('base64'),
      ...(kdf ? { kdf } : {}),
    };
    await store.write([{ type: 'put', kind: 'meta', key: 'rotation', value: jsonBytes(state) }]); // step 1
  }
  store.setKeys([newKeys, oldKeys]);

  let total = 0;
  for (const kind of RECORD_KINDS) for await (const _ of store.sublevel(kind).keys()) total++;
  let done = 0;
  let resealed = 0;
  for (const kind of RECORD_KINDS) {
    const sub = store.sublevel(kind);
    for await (const [key, value] of sub.iterator()) {
      if (envelopeFingerprint(value, `${kind}/${key}`).equals(oldKeys.fingerprint)) {
        const resealedValue = store.resealRecord(kind, key, value);
        await store.write([{ type: 'put', kind, key, value: resealedValue }]); // step 2
        resealed++;
      }
      opts.onProgress?.(++done, total);
    }
  }

  const { kdf: _oldKdf, ...rest } = store.meta;
  const finalMeta: StoreMeta = { ...rest, ...(state.kdf ? { kdf: state.kdf } : {}) };
  await store.write([
    { type: 'put', kind: 'meta', key: 'store', value: jsonBytes(finalMeta) },
    { type: 'put', kind: 'meta', key: 'check', value: Buffer.from(state.check, 'base64') },
    { type: 'del', kind: 'meta', key: 'rotation' },
  ]); // step 3
  return {
    resealed,
    alreadyComplete: false,
    resumed: pending !== undefined,
    fingerprint: newKeys.fingerprint.toString('hex'),
  };
}
