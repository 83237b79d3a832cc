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
 * re-run with the same old and new key finishes. A re-run after step 3 reports that the rotation
 * is already complete.
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
  /** Whether this run found the rotation already complete. */
  readonly alreadyComplete: boolean;
}

/**
 * Rotate (or finish rotating) the master key of the store in `opts.dir`.
 * @throws KeystoreError WRONG_MASTER_KEY (neither key fits, or `to` is not the key an interrupted
 *   rotation started with), INVALID_RECORD (same key), STORE_LOCKED, or what `onProgress` throws.
 */
export async function rotateMasterKey(opts: RotationOptions): Promise<RotationResult> {
  let store: Keystore;
  try {
    store = await Keystore.openInternal({ dir: opts.dir, source: opts.from }, true);
  } catch (err) {
    if (!(err instanceof KeystoreError) || err.code !== 'WRONG_MASTER_KEY') throw err;
    // Completed by an earlier run (step 3 done)? Then the new key opens the store normally.
    const done = await Keystore.open({ dir: opts.dir, source: opts.to }).catch(() => undefined);
    if (!done) throw err;
    await done.close();
    return { resealed: 0, alreadyComplete: true };
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
  return { resealed, alreadyComplete: false };
}
