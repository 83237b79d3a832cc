/**
 * At-rest encryption: the value envelope and its AAD (unit level), then tampering with a closed
 * store at the raw LevelDB level — flipped bytes, truncation, format bytes, swapped and moved
 * records, records copied into another node's store, and a damaged key check.
 */
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  deriveStoreKeys,
  encodeAad,
  envelopeFingerprint,
  open,
  seal,
  type RecordAad,
} from '../../keystore/encryption.js';
import { jsonBytes, makeCheck } from '../../keystore/keystore.js';
import type { Keystore } from '../../keystore/index.js';
import type { MasterKey } from '../../keystore/master-key.js';
import type { RecordKind } from '../../keystore/records.js';
import {
  epochKey,
  flip,
  populate,
  randomKey,
  rejectsWith,
  throwsWith,
  useHarness,
  withRaw,
  type Populated,
} from './helpers/ks.js';

const h = useHarness();
const master = (): MasterKey => ({ bytes: new Uint8Array(randomBytes(32)) });

describe('value envelope', () => {
  const aad: RecordAad = { kind: 'keyshare', id: 'k@0000000001', party: 'P', epoch: 1, version: 1 };

  it('seals as format ‖ fingerprint ‖ nonce ‖ ciphertext ‖ tag and opens again', () => {
    const keys = deriveStoreKeys(master(), randomBytes(32));
    const pt = Buffer.from('secret share bytes');
    const v = seal(keys, encodeAad(aad), pt);
    expect(v.length).toBe(1 + 8 + 12 + pt.length + 16);
    expect(v[0]).toBe(1);
    expect(v.subarray(1, 9).equals(keys.fingerprint)).toBe(true);
    expect(envelopeFingerprint(v, 'w').equals(keys.fingerprint)).toBe(true);
    expect(open([keys], encodeAad(aad), v, 'w').equals(pt)).toBe(true);
    // a fresh nonce per seal
    const nonces = new Set(
      Array.from({ length: 50 }, () =>
        seal(keys, encodeAad(aad), pt).subarray(9, 21).toString('hex')
      )
    );
    expect(nonces.size).toBe(50);
  });

  it('derives keys per (master, salt); the fingerprint names the master key', () => {
    const m = master();
    const salt = randomBytes(32);
    const a = deriveStoreKeys(m, salt);
    const b = deriveStoreKeys({ bytes: new Uint8Array(m.bytes) }, Buffer.from(salt));
    expect(a.records.equals(b.records)).toBe(true);
    expect(a.fingerprint.equals(b.fingerprint)).toBe(true);
    expect(a.fingerprint).toHaveLength(8);
    const otherSalt = deriveStoreKeys(m, randomBytes(32));
    const otherKey = deriveStoreKeys(master(), salt);
    for (const o of [otherSalt, otherKey]) {
      expect(o.records.equals(a.records)).toBe(false);
      expect(o.fingerprint.equals(a.fingerprint)).toBe(false);
    }
    // the data key is not the master key, and the fingerprint is not a prefix of either
    expect(a.records.equals(Buffer.from(m.bytes))).toBe(false);
    expect(Buffer.from(m.bytes).includes(a.fingerprint)).toBe(false);
    expect(a.records.includes(a.fingerprint)).toBe(false);
  });

  it('fails authentication when any AAD field changes', () => {
    const keys = deriveStoreKeys(master(), randomBytes(32));
    const v = seal(keys, encodeAad(aad), Buffer.from('x'));
    const variants: RecordAad[] = [
      { ...aad, kind: 'aux' },
      { ...aad, id: 'k@0000000002' },
      { ...aad, party: 'Q' },
      { ...aad, epoch: 2 },
      { ...aad, version: 2 },
    ];
    for (const a of variants) {
      throwsWith(() => open([keys], encodeAad(a), v, 'kind/id'), 'RECORD_CORRUPT', 'kind/id');
    }
  });

  it('encodes the AAD injectively (length prefixes)', () => {
    const a = encodeAad({ kind: 'ab', id: 'c', party: 'p', epoch: 0, version: 1 });
    const b = encodeAad({ kind: 'a', id: 'bc', party: 'p', epoch: 0, version: 1 });
    const c = encodeAad({ kind: 'a', id: 'b', party: 'cp', epoch: 0, version: 1 });
    expect(a.equals(b)).toBe(false);
    expect(b.equals(c)).toBe(false);
    expect(
      encodeAad({ kind: 'k', id: 'i', party: 'p', epoch: 1, version: 0 }).equals(
        encodeAad({ kind: 'k', id: 'i', party: 'p', epoch: 0, version: 1 })
      )
    ).toBe(false);
  });

  it('refuses a value under a key that is not among the candidates', () => {
    const salt = randomBytes(32);
    const k1 = deriveStoreKeys(master(), salt);
    const k2 = deriveStoreKeys(master(), salt);
    const v = seal(k1, encodeAad(aad), Buffer.from('x'));
    throwsWith(() => open([k2], encodeAad(aad), v, 'w/1'), 'RECORD_CORRUPT', 'w/1', 'not open');
    expect(open([k2, k1], encodeAad(aad), v, 'w').toString()).toBe('x');
  });

  it('refuses truncated values and unknown format bytes', () => {
    const keys = deriveStoreKeys(master(), randomBytes(32));
    const v = seal(keys, encodeAad(aad), Buffer.from('x'));
    for (const len of [0, 1, 9, 21, 36]) {
      throwsWith(
        () => open([keys], encodeAad(aad), v.subarray(0, len), 'w'),
        'RECORD_CORRUPT',
        'truncated'
      );
      throwsWith(() => envelopeFingerprint(v.subarray(0, len), 'w'), 'RECORD_CORRUPT', 'truncated');
    }
    throwsWith(
      () => open([keys], encodeAad(aad), flip(v, 0, 1), 'w'),
      'RECORD_CORRUPT',
      'format 0'
    );
    throwsWith(
      () => open([keys], encodeAad(aad), flip(v, 0, 3), 'w'),
      'UNSUPPORTED_VERSION',
      'format 2'
    );
  });
});

// ---- raw-level tampering with a closed store ------------------------------------------------

interface Setup {
  dir: string;
  p: Populated;
  key: MasterKey;
  reopen(): Promise<Keystore>;
}

/** A closed store (raw master key) holding one record of every kind. */
async function setup(): Promise<Setup> {
  const source = randomKey();
  const { ks, dir } = await h.create(source);
  const p = await populate(ks);
  await ks.close();
  return { dir, p, key: source.key, reopen: () => h.open({ dir, source }) };
}

const K1E1 = epochKey('k1', 1);
const WHERE = `keyshare/${K1E1}`;

describe('tampering with a stored value', () => {
  // value: format (0) ‖ fingerprint (1..8) ‖ nonce (9..20) ‖ ciphertext (21..) ‖ tag (last 16)
  const cases: Array<
    [string, (v: Buffer) => Buffer, 'RECORD_CORRUPT' | 'UNSUPPORTED_VERSION', RegExp]
  > = [
    ['a ciphertext byte flipped', (v) => flip(v, 21), 'RECORD_CORRUPT', /authentication failed/],
    ['the last ciphertext byte flipped', (v) => flip(v, -17), 'RECORD_CORRUPT', /authentication/],
    ['a nonce byte flipped', (v) => flip(v, 9), 'RECORD_CORRUPT', /authentication failed/],
    ['the last nonce byte flipped', (v) => flip(v, 20, 0x80), 'RECORD_CORRUPT', /authentication/],
    ['a tag byte flipped', (v) => flip(v, -1), 'RECORD_CORRUPT', /authentication failed/],
    ['the first tag byte flipped', (v) => flip(v, -16), 'RECORD_CORRUPT', /authentication/],
    ['a fingerprint byte flipped', (v) => flip(v, 1), 'RECORD_CORRUPT', /not open/],
    [
      'truncated by one byte',
      (v) => v.subarray(0, v.length - 1),
      'RECORD_CORRUPT',
      /authentication/,
    ],
    ['truncated to its tag', (v) => v.subarray(v.length - 16), 'RECORD_CORRUPT', /./],
    ['truncated to 30 bytes', (v) => v.subarray(0, 30), 'RECORD_CORRUPT', /truncated/],
    ['emptied', () => Buffer.alloc(0), 'RECORD_CORRUPT', /truncated/],
    [
      'extended by a byte',
      (v) => Buffer.concat([v, Buffer.from([0])]),
      'RECORD_CORRUPT',
      /authentication/,
    ],
    ['format byte 0', (v) => flip(v, 0, 1), 'RECORD_CORRUPT', /unknown value format 0/],
    ['format byte 2', (v) => flip(v, 0, 3), 'UNSUPPORTED_VERSION', /unknown value format 2/],
    ['format byte 255', (v) => flip(v, 0, 0xfe), 'UNSUPPORTED_VERSION', /format 255/],
  ];

  it.each(cases)('%s → %s', async (_name, tamper, code, msg) => {
    const s = await setup();
    await withRaw(s.dir, async (raw) =>
      raw.put('keyshare', K1E1, tamper(await raw.get('keyshare', K1E1)))
    );
    const ks = await s.reopen();
    await rejectsWith(ks.getKeyShare('k1', 1), code, WHERE, msg);
    await rejectsWith(ks.getKeyShare('k1'), code, WHERE); // the newest-epoch lookup too
    // the other records are unaffected
    expect(await ks.getKeyShare('k1', 0)).toEqual(s.p.keyShares[0]);
    expect(await ks.getIdentity()).toEqual(s.p.identity);
  });

  it('a flipped byte anywhere in the value is detected (every position)', async () => {
    const s = await setup();
    const original = await withRaw(s.dir, (raw) => raw.get('aux', epochKey('aux-1', 0)));
    const ks = await s.reopen();
    for (let i = 0; i < original.length; i++) {
      // write through the raw batch of the open store: same bytes as a disk edit, no reopen per byte
      await ks.write([
        { type: 'put', kind: 'aux', key: epochKey('aux-1', 0), value: flip(original, i, 0x10) },
      ]);
      const err = await rejectsWith(
        ks.getAuxInfo('aux-1'),
        i === 0 ? 'UNSUPPORTED_VERSION' : 'RECORD_CORRUPT'
      );
      expect(err.message).toContain(`aux/${epochKey('aux-1', 0)}`);
    }
    await ks.write([{ type: 'put', kind: 'aux', key: epochKey('aux-1', 0), value: original }]);
    expect(await ks.getAuxInfo('aux-1')).toEqual(s.p.aux[0]);
  });

  it('a tampered record of each kind fails the call that reads it', async () => {
    const s = await setup();
    const sidHex = Buffer.from(s.p.sids[0]!).toString('hex');
    const targets: Array<[RecordKind, string]> = [
      ['aux', epochKey('aux-1', 0)],
      ['presig', epochKey('p1', 1)],
      ['identity', 'identity'],
      ['journal', s.p.journal[0]!.sid],
    ];
    await withRaw(s.dir, async (raw) => {
      for (const [kind, key] of targets) {
        await raw.put(kind, key, flip(await raw.get(kind, key), 30));
      }
    });
    const ks = await s.reopen();
    await rejectsWith(ks.getAuxInfo('aux-1'), 'RECORD_CORRUPT', `aux/${epochKey('aux-1', 0)}`);
    await rejectsWith(
      ks.consumePresignature('p1'),
      'RECORD_CORRUPT',
      `presig/${epochKey('p1', 1)}`
    );
    await rejectsWith(ks.listFreshPresignatures('k1'), 'RECORD_CORRUPT', 'presig/');
    await rejectsWith(ks.getIdentity(), 'RECORD_CORRUPT', 'identity/identity');
    await rejectsWith(ks.getJournal(s.p.journal[0]!.sid), 'RECORD_CORRUPT', `journal/${sidHex}`);
    // the untouched presignature still works
    expect((await ks.consumePresignature('p2')).data).toEqual(s.p.presigs[1]!.data);
  });
});

describe('swapped and moved records', () => {
  it("the value of key share A under key B's key (and the reverse)", async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const a = await raw.get('keyshare', epochKey('k1', 1));
      const b = await raw.get('keyshare', epochKey('k2', 7));
      await raw.put('keyshare', epochKey('k1', 1), b);
      await raw.put('keyshare', epochKey('k2', 7), a);
    });
    const ks = await s.reopen();
    await rejectsWith(
      ks.getKeyShare('k1'),
      'RECORD_CORRUPT',
      `keyshare/${epochKey('k1', 1)}`,
      'moved'
    );
    await rejectsWith(ks.getKeyShare('k2', 7), 'RECORD_CORRUPT', `keyshare/${epochKey('k2', 7)}`);
    expect(await ks.getKeyShare('k1', 0)).toEqual(s.p.keyShares[0]);
  });

  it('a key share value under a new id (no record there before)', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) =>
      raw.put('keyshare', epochKey('k3', 7), await raw.get('keyshare', epochKey('k2', 7)))
    );
    const ks = await s.reopen();
    await rejectsWith(ks.getKeyShare('k3'), 'RECORD_CORRUPT', `keyshare/${epochKey('k3', 7)}`);
  });

  it('a key share value moved into the aux sublevel (same key, and over an aux record)', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const share = await raw.get('keyshare', epochKey('k1', 0));
      await raw.put('aux', epochKey('k1', 0), share); // same record key, other kind
      await raw.put('aux', epochKey('aux-1', 0), share); // over the real aux record
    });
    const ks = await s.reopen();
    await rejectsWith(ks.getAuxInfo('k1'), 'RECORD_CORRUPT', `aux/${epochKey('k1', 0)}`);
    await rejectsWith(ks.getAuxInfo('aux-1'), 'RECORD_CORRUPT', `aux/${epochKey('aux-1', 0)}`);
  });

  it('a presignature moved into the key share sublevel, and identity/journal values swapped', async () => {
    const s = await setup();
    const jsid = s.p.journal[0]!.sid;
    await withRaw(s.dir, async (raw) => {
      await raw.put('keyshare', epochKey('p1', 1), await raw.get('presig', epochKey('p1', 1)));
      const idv = await raw.get('identity', 'identity');
      await raw.put('identity', 'identity', await raw.get('journal', jsid));
      await raw.put('journal', jsid, idv);
    });
    const ks = await s.reopen();
    await rejectsWith(ks.getKeyShare('p1'), 'RECORD_CORRUPT', `keyshare/${epochKey('p1', 1)}`);
    await rejectsWith(ks.getIdentity(), 'RECORD_CORRUPT', 'identity/identity');
    await rejectsWith(ks.getJournal(jsid), 'RECORD_CORRUPT', `journal/${jsid}`);
  });

  it('a record moved to another epoch key (newer, older, and as the only epoch)', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const e0 = await raw.get('keyshare', epochKey('k1', 0));
      await raw.put('keyshare', epochKey('k1', 5), e0); // pretends to be a newer epoch
      await raw.put('keyshare', epochKey('k2', 8), await raw.get('keyshare', epochKey('k2', 7)));
      await raw.del('keyshare', epochKey('k2', 7));
    });
    const ks = await s.reopen();
    await rejectsWith(ks.getKeyShare('k1'), 'RECORD_CORRUPT', `keyshare/${epochKey('k1', 5)}`);
    await rejectsWith(ks.getKeyShare('k1', 5), 'RECORD_CORRUPT', epochKey('k1', 5));
    await rejectsWith(ks.getKeyShare('k2'), 'RECORD_CORRUPT', epochKey('k2', 8));
    expect(await ks.getKeyShare('k1', 0)).toEqual(s.p.keyShares[0]);
  });

  it('a presignature moved to another presignature id or epoch', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const p1 = await raw.get('presig', epochKey('p1', 1));
      await raw.put('presig', epochKey('p2', 1), p1);
      await raw.del('presig', epochKey('p1', 1));
      await raw.put('presig', epochKey('p1', 2), p1);
    });
    const ks = await s.reopen();
    await rejectsWith(
      ks.consumePresignature('p2'),
      'RECORD_CORRUPT',
      `presig/${epochKey('p2', 1)}`
    );
    await rejectsWith(
      ks.consumePresignature('p1'),
      'RECORD_CORRUPT',
      `presig/${epochKey('p1', 2)}`
    );
    // nothing was consumed on the way: both values are still the tampered ones
    await rejectsWith(ks.consumePresignature('p2'), 'RECORD_CORRUPT');
  });

  it("a record copied into another node's store under the same master key", async () => {
    const source = (await h.create()).source;
    const a = await h.create(source, 'party-A');
    const b = await h.create(source, 'party-B');
    const p = await populate(a.ks);
    await b.ks.putKeyShare({ keyId: 'k1', epoch: 1, data: new Uint8Array([1]) });
    await a.ks.close();
    await b.ks.close();
    const stolen = await withRaw(a.dir, async (raw) => ({
      share: await raw.get('keyshare', K1E1),
      aux: await raw.get('aux', epochKey('aux-1', 0)),
      identity: await raw.get('identity', 'identity'),
    }));
    await withRaw(b.dir, async (raw) => {
      await raw.put('keyshare', K1E1, stolen.share); // over an existing record
      await raw.put('aux', epochKey('aux-1', 0), stolen.aux); // where B has none
      await raw.put('identity', 'identity', stolen.identity);
    });
    const ks = await h.open({ dir: b.dir, source });
    await rejectsWith(ks.getKeyShare('k1'), 'RECORD_CORRUPT', WHERE);
    await rejectsWith(ks.getAuxInfo('aux-1'), 'RECORD_CORRUPT', `aux/${epochKey('aux-1', 0)}`);
    await rejectsWith(ks.getIdentity(), 'RECORD_CORRUPT', 'identity/identity');
    expect(p.keyShares).toHaveLength(3);
  });

  it('the party id in the AAD alone stops a copy (same salt and key, meta rewritten)', async () => {
    // A whole-directory copy whose meta is re-labelled for another party, with a valid key check
    // forged by someone holding the master key: only the AAD's party binding is left to stop it.
    const s = await setup();
    const copy = h.dir();
    cpSync(s.dir, copy, { recursive: true });
    await withRaw(copy, async (raw) => {
      const meta = await raw.storeMeta();
      const keys = deriveStoreKeys(s.key, Buffer.from(meta.salt, 'base64'));
      await raw.put('meta', 'store', jsonBytes({ ...meta, partyId: 'party-B' }));
      await raw.put('meta', 'check', makeCheck(keys, 'party-B'));
    });
    const source = { kind: 'key' as const, key: s.key };
    const ks = await h.open({ dir: copy, source, partyId: 'party-B' });
    expect(ks.partyId).toBe('party-B');
    await rejectsWith(ks.getKeyShare('k1'), 'RECORD_CORRUPT', WHERE, 'authentication failed');
    await rejectsWith(ks.getIdentity(), 'RECORD_CORRUPT', 'identity/identity');
    await rejectsWith(ks.consumePresignature('p1'), 'RECORD_CORRUPT');
    await rejectsWith(ks.listFreshPresignatures('k1'), 'RECORD_CORRUPT');
  });
});

describe('the meta records', () => {
  it('a flipped byte in meta/check → WRONG_MASTER_KEY at open', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) =>
      raw.put('meta', 'check', flip(await raw.get('meta', 'check'), 25))
    );
    await rejectsWith(s.reopen(), 'WRONG_MASTER_KEY', 'does not open the store', s.dir);
  });

  it('a missing or truncated meta/check → WRONG_MASTER_KEY', async () => {
    const s = await setup();
    await withRaw(s.dir, (raw) => raw.del('meta', 'check'));
    await rejectsWith(s.reopen(), 'WRONG_MASTER_KEY');
    await withRaw(s.dir, (raw) => raw.put('meta', 'check', Buffer.alloc(10)));
    await rejectsWith(s.reopen(), 'WRONG_MASTER_KEY');
  });

  it('a changed salt in meta/store → WRONG_MASTER_KEY', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const meta = await raw.storeMeta();
      await raw.put(
        'meta',
        'store',
        jsonBytes({ ...meta, salt: randomBytes(32).toString('base64') })
      );
    });
    await rejectsWith(s.reopen(), 'WRONG_MASTER_KEY');
  });

  it('a changed party id in meta/store → WRONG_MASTER_KEY (the key check binds it)', async () => {
    const s = await setup();
    await withRaw(s.dir, async (raw) => {
      const meta = await raw.storeMeta();
      await raw.put('meta', 'store', jsonBytes({ ...meta, partyId: 'party-Z' }));
    });
    await rejectsWith(s.reopen(), 'WRONG_MASTER_KEY');
  });

  it('meta/store that is not JSON → RECORD_CORRUPT naming meta/store', async () => {
    const s = await setup();
    await withRaw(s.dir, (raw) => raw.put('meta', 'store', Buffer.from('{not json')));
    await rejectsWith(s.reopen(), 'RECORD_CORRUPT', 'meta/store');
  });
});
