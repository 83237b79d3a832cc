import { describe, expect, it } from 'vitest';
import { InvalidArgs } from '../../../protocol/errors.js';
import { computeSessionId, type SessionIdInputs } from '../../../protocol/hash/session-id.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const roster = [1, 2, 3].map((i) => ({ partyId: bytes(8, i), publicKey: bytes(32, 10 + i) }));

const presign: SessionIdInputs = {
  protocol: 'presign',
  keyId: bytes(16, 9),
  keyEpoch: 0,
  roster,
  signers: [0, 2],
  t: 2,
  n: 3,
  level: 'level128',
  nonce: bytes(32, 5),
};

describe('session id (C12)', () => {
  const sid = computeSessionId(presign);

  it('is 32 bytes and deterministic', () => {
    expect(sid).toHaveLength(32);
    expect(computeSessionId({ ...presign })).toEqual(sid);
  });

  it.each<[string, Partial<SessionIdInputs>]>([
    ['protocol', { protocol: 'sign' }],
    ['key id', { keyId: bytes(16, 8) }],
    ['epoch', { keyEpoch: 1 }],
    ['signer set', { signers: [1, 2] }],
    ['level', { level: 'level112' }],
    ['nonce', { nonce: bytes(32, 6) }],
    [
      'roster key',
      { roster: [roster[0]!, roster[1]!, { ...roster[2]!, publicKey: bytes(32, 99) }] },
    ],
  ])('changes with the %s', (_f, patch) => {
    expect(computeSessionId({ ...presign, ...patch })).not.toEqual(sid);
  });

  it('changes with t (3-of-3 vs 2-of-3 over the same roster)', () => {
    expect(computeSessionId({ ...presign, t: 3, signers: [0, 1, 2] })).not.toEqual(
      computeSessionId({ ...presign, t: 2, signers: [0, 1] })
    );
  });

  it('keygen has no key id and no signer set', () => {
    const kg: SessionIdInputs = {
      ...presign,
      protocol: 'keygen',
      keyId: undefined,
      signers: undefined,
    };
    expect(computeSessionId(kg)).toHaveLength(32);
    expect(() => computeSessionId({ ...kg, signers: [0, 1] })).toThrow(/signers/);
    expect(() => computeSessionId({ ...kg, keyId: bytes(4, 1) })).toThrow(/keyId/);
  });

  it.each<[string, Partial<SessionIdInputs>, RegExp]>([
    ['n too small', { n: 1, t: 1 }, /\bn\b/],
    ['n too large', { n: 17 }, /\bn\b/],
    ['t too small', { t: 1 }, /\bt\b/],
    ['t > n', { t: 4 }, /\bt\b/],
    ['unsorted roster', { roster: [roster[1]!, roster[0]!, roster[2]!] }, /sorted/],
    ['duplicate party', { roster: [roster[0]!, roster[0]!, roster[2]!] }, /sorted/],
    [
      'short public key',
      { roster: [roster[0]!, roster[1]!, { ...roster[2]!, publicKey: bytes(31, 1) }] },
      /publicKey/,
    ],
    ['signer count ≠ t', { signers: [0, 1, 2] }, /signers/],
    ['signer out of range', { signers: [0, 3] }, /signers\[1\]/],
    ['signers not increasing', { signers: [2, 0] }, /increasing/],
    ['short nonce', { nonce: bytes(31, 1) }, /nonce/],
    ['zero nonce', { nonce: bytes(32, 0) }, /nonce/],
    ['negative epoch', { keyEpoch: -1 }, /keyEpoch/],
  ])('rejects %s with a named field', (_c, patch, re) => {
    expect(() => computeSessionId({ ...presign, ...patch })).toThrow(InvalidArgs);
    expect(() => computeSessionId({ ...presign, ...patch })).toThrow(re);
  });
});
