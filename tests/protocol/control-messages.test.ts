/**
 * The `/mpcd/control/1` codec (protocol/control/messages.ts): every request and response
 * round-trips; every field is refused with a {@link DecodeError} naming it (wrong type, missing,
 * unknown extra field at each level, out-of-range values); frames that are not UTF-8, not JSON or
 * too large are refused; invitation and report signatures verify, and break when any single field
 * changes; `verifyControl` answers `false` (never throws) on garbage; and a fast-check property
 * that arbitrary bytes and arbitrary JSON never make the decoder throw anything but DecodeError.
 *
 * Peer ids are real Ed25519 libp2p peer ids (the codec only checks their base58btc shape, but the
 * signature tests use the keys behind them).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeControlRequest,
  decodeControlResponse,
  decodeInvitation,
  decodeReport,
  encodeControl,
  invitationSigningBytes,
  MAX_CONTROL_FRAME,
  MAX_SIGN_MESSAGE_BYTES,
  reportSigningBytes,
  signControl,
  verifyControl,
  type ControlRequest,
  type ControlResponse,
  type Invitation,
  type KeygenParams,
  type Report,
  type SignParams,
} from '../../protocol/control/messages.js';
import { DecodeError, InvalidArgs } from '../../protocol/errors.js';
import { MAX_PARTIES } from '../../protocol/params.js';

// ---- fixtures ----------------------------------------------------------------------------------

interface Identity {
  readonly peer: string;
  /** 32-byte Ed25519 seed (what signControl takes). */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

async function identity(): Promise<Identity> {
  const k = await generateKeyPair('Ed25519');
  return {
    peer: peerIdFromPrivateKey(k).toString(),
    seed: k.raw.slice(0, 32),
    publicKey: k.publicKey.raw,
  };
}

// One coordinator, one rogue signer, and MAX_PARTIES + 1 distinct participants.
const [coord, rogue, ...people] = await Promise.all(
  Array.from({ length: MAX_PARTIES + 3 }, () => identity())
);
const peers = people.map((p) => p.peer);
const [alice, bob, carol] = peers as [string, string, string];

const SESSION = '0d4c5b1e-8f3a-4c2b-9a1d-2e3f4a5b6c7d';
const TOKEN = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
const NONCE = 'ab'.repeat(32);
const KEY_ID = '0123456789abcdef0123456789abcdef';
const DIGEST = '11'.repeat(32);
const SIG = 'cd'.repeat(64);
const MESSAGE = Buffer.from('pay 1 ETH to 0xabc').toString('hex');

const KEYGEN_PARAMS: KeygenParams = { kind: 'keygen', threshold: 2, level: 'level112' };
const SIGN_PARAMS: SignParams = {
  kind: 'sign',
  keyId: KEY_ID,
  digest: DIGEST,
  message: MESSAGE,
  hashing: 'keccak256',
};

const keygenInvitation: Invitation = {
  v: 1,
  sessionId: SESSION,
  coordinator: coord!.peer,
  recipient: alice,
  participants: [alice, bob, carol],
  params: KEYGEN_PARAMS,
  nonce: NONCE,
  expiresAt: 1_700_000_000_000,
  joinToken: TOKEN,
};
const signInvitation: Invitation = {
  ...keygenInvitation,
  participants: [bob, alice],
  params: SIGN_PARAMS,
};

const R = '2a'.repeat(32);
const S = '3b'.repeat(32);
const keygenReport: Report = {
  v: 1,
  sessionId: SESSION,
  party: alice,
  outcome: 'completed',
  output: {
    kind: 'keygen',
    keyId: KEY_ID,
    publicKey: '02' + '5c'.repeat(32),
    address: '0x' + 'aB'.repeat(20),
  },
};
const signReport: Report = {
  v: 1,
  sessionId: SESSION,
  party: bob,
  outcome: 'completed',
  output: {
    kind: 'sign',
    r: R,
    s: S,
    recid: 1,
    signature65: R + S + '1c',
    der: `30440220${R}0220${S}`,
  },
};
const failedReport: Report = {
  v: 1,
  sessionId: SESSION,
  party: carol,
  outcome: 'failed',
  reason: 'protocol-abort:bad-proof:enc',
  detail: 'round 2: Πenc of party 1 failed (RangeCheck 3) — é ✓',
  culprits: [
    { party: bob, reason: 'bad-proof:enc' },
    { party: alice, reason: 'equivocation' },
  ],
};

type Loose = Record<string, unknown>;
const utf8 = new TextEncoder();
/** A frame of any JSON value (bypassing encodeControl's types, as a hostile peer would). */
const frame = (v: unknown): Uint8Array => utf8.encode(JSON.stringify(v));
/** A copy of `o` without `keys` (JSON.stringify drops `undefined`, so this is "missing"). */
const without = (o: object, ...keys: string[]): Loose => {
  const c: Loose = { ...o };
  for (const k of keys) delete c[k];
  return c;
};

/** Run `f`, expect a DecodeError, return the field it names. */
function fieldOf(f: () => unknown): string {
  let value: unknown;
  try {
    value = f();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    const e = err as DecodeError;
    // the message names the field too (it is what the peer gets back)
    expect(e.message).toContain(e.field);
    return e.field;
  }
  throw new Error(`expected a DecodeError, got ${JSON.stringify(value)}`);
}

/** Returns true, or rethrows anything that is not a DecodeError (for fast-check). */
function onlyDecodeError(f: () => unknown): true {
  try {
    f();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
  return true;
}

// ---- round trips -------------------------------------------------------------------------------

const invite = (invitation: unknown, signature: unknown = SIG): Loose => ({
  type: 'invite',
  invitation,
  signature,
});
const reportReq = (report: unknown, signature: unknown = SIG): Loose => ({
  type: 'report',
  report,
  signature,
});

const REQUESTS: Array<[string, ControlRequest]> = [
  ['invite (keygen)', { type: 'invite', invitation: keygenInvitation, signature: SIG }],
  [
    'invite (sign, keccak256 of a message)',
    { type: 'invite', invitation: signInvitation, signature: SIG },
  ],
  [
    'invite (sign, digest only)',
    {
      type: 'invite',
      invitation: {
        ...signInvitation,
        params: { ...without(SIGN_PARAMS, 'message'), hashing: 'none' } as SignParams,
      },
      signature: SIG,
    },
  ],
  [
    'invite (sign, empty message, eth-personal)',
    {
      type: 'invite',
      invitation: {
        ...signInvitation,
        params: { ...SIGN_PARAMS, message: '', hashing: 'eth-personal' },
      },
      signature: SIG,
    },
  ],
  [
    'invite (16 participants, threshold 16, level128, expiry 0)',
    {
      type: 'invite',
      invitation: {
        ...keygenInvitation,
        participants: peers.slice(0, MAX_PARTIES),
        params: { kind: 'keygen', threshold: MAX_PARTIES, level: 'level128' },
        expiresAt: 0,
      },
      signature: SIG,
    },
  ],
  ['join', { type: 'join', sessionId: SESSION, joinToken: TOKEN }],
  ['ready', { type: 'ready', sessionId: SESSION }],
  ['start', { type: 'start', sessionId: SESSION }],
  ['abort', { type: 'abort', sessionId: SESSION, reason: 'operator gave up: no quorum' }],
  ['abort (empty reason)', { type: 'abort', sessionId: SESSION, reason: '' }],
  ['abort (256-character reason)', { type: 'abort', sessionId: SESSION, reason: 'x'.repeat(256) }],
  ['report (completed keygen)', { type: 'report', report: keygenReport, signature: SIG }],
  ['report (completed sign)', { type: 'report', report: signReport, signature: SIG }],
  [
    'report (failed, detail and culprits)',
    { type: 'report', report: failedReport, signature: SIG },
  ],
  [
    'report (failed, 16 culprits, longest reason and detail)',
    {
      type: 'report',
      report: {
        ...failedReport,
        reason: 'a'.repeat(128),
        detail: 'd'.repeat(1024),
        culprits: peers.slice(0, MAX_PARTIES).map((party) => ({ party, reason: 'timeout' })),
      },
      signature: SIG,
    },
  ],
  [
    'report (failed, no detail, no culprits)',
    {
      type: 'report',
      report: { ...without(failedReport, 'detail'), culprits: [] } as unknown as Report,
      signature: SIG,
    },
  ],
];

describe('round trips', () => {
  it.each(REQUESTS)('%s: decode(encode(request)) equals the request', (_label, req) => {
    expect(decodeControlRequest(encodeControl(req))).toStrictEqual(req);
  });

  it('a message of exactly MAX_SIGN_MESSAGE_BYTES is accepted', () => {
    const req: ControlRequest = {
      type: 'invite',
      invitation: {
        ...signInvitation,
        params: { ...SIGN_PARAMS, message: '5a'.repeat(MAX_SIGN_MESSAGE_BYTES) },
      },
      signature: SIG,
    };
    expect(decodeControlRequest(encodeControl(req))).toStrictEqual(req);
  });

  it('a failed report without culprits decodes with an empty list (same signing bytes)', () => {
    const sent = without(failedReport, 'culprits') as unknown as Report;
    const got = decodeReport(JSON.parse(JSON.stringify(sent)));
    expect(got).toStrictEqual({ ...sent, culprits: [] });
    expect(reportSigningBytes(got)).toEqual(reportSigningBytes(sent));
  });

  it.each<[string, ControlResponse]>([
    ['ok', { ok: true }],
    ['refusal', { ok: false, error: { code: 'not-recipient', message: 'addressed to “bob” ✓' } }],
    ['refusal with empty message', { ok: false, error: { code: 'internal', message: '' } }],
  ])('response %s round-trips', (_label, res) => {
    expect(decodeControlResponse(encodeControl(res))).toStrictEqual(res);
  });

  it('decodeInvitation and decodeReport accept plain objects', () => {
    const inv = decodeInvitation(JSON.parse(JSON.stringify(keygenInvitation)));
    expect(inv).toStrictEqual(keygenInvitation);
    expect(decodeReport(JSON.parse(JSON.stringify(signReport)))).toStrictEqual(signReport);
  });

  it('encodeControl refuses a message larger than MAX_CONTROL_FRAME', () => {
    const big: ControlRequest = {
      type: 'abort',
      sessionId: SESSION,
      reason: 'x'.repeat(MAX_CONTROL_FRAME),
    };
    let err: unknown;
    try {
      encodeControl(big);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgs);
    expect((err as InvalidArgs).field).toBe('message');
  });
});

// ---- field rejections --------------------------------------------------------------------------

const kInv = (over: Loose = {}): Loose => ({ ...keygenInvitation, ...over });
const kParams = (over: Loose): Loose => kInv({ params: { ...KEYGEN_PARAMS, ...over } });
const sInv = (over: Loose = {}): Loose => ({ ...signInvitation, ...over });
const sParams = (over: Loose): Loose => sInv({ params: { ...SIGN_PARAMS, ...over } });
const badPeer = '0' + alice.slice(1); // '0' is not a base58btc digit
const UPPER_UUID = SESSION.toUpperCase();
const V1_UUID = '0d4c5b1e-8f3a-1c2b-9a1d-2e3f4a5b6c7d';
const BAD_VARIANT_UUID = '0d4c5b1e-8f3a-4c2b-ca1d-2e3f4a5b6c7d';

const INVITE_REJECTIONS: Array<[string, unknown, string]> = [
  // request level
  ['request with an unknown field', { ...invite(kInv()), extra: 1 }, 'request.extra'],
  ['request without invitation', without(invite(kInv()), 'invitation'), 'invitation'],
  ['invitation that is an array', invite([]), 'invitation'],
  ['invitation that is a string', invite('inv'), 'invitation'],
  ['invitation that is null', invite(null), 'invitation'],
  ['signature missing', without(invite(kInv()), 'signature'), 'request.signature'],
  ['signature of 63 bytes', invite(kInv(), 'cd'.repeat(63)), 'request.signature'],
  ['signature of 65 bytes', invite(kInv(), 'cd'.repeat(65)), 'request.signature'],
  ['signature in upper case', invite(kInv(), SIG.toUpperCase()), 'request.signature'],
  ['signature as a number', invite(kInv(), 5), 'request.signature'],
  // invitation level
  ['invitation with an unknown field', invite(kInv({ extra: true })), 'invitation.extra'],
  ['invitation with __proto__', invite(JSON.parse(`{"__proto__": {}}`)), 'invitation.__proto__'],
  ['v missing', invite(without(kInv(), 'v')), 'invitation.v'],
  ['v = 2', invite(kInv({ v: 2 })), 'invitation.v'],
  ['v = "1"', invite(kInv({ v: '1' })), 'invitation.v'],
  ['sessionId missing', invite(without(kInv(), 'sessionId')), 'invitation.sessionId'],
  ['sessionId a number', invite(kInv({ sessionId: 42 })), 'invitation.sessionId'],
  ['sessionId a UUID v1', invite(kInv({ sessionId: V1_UUID })), 'invitation.sessionId'],
  [
    'sessionId with a bad variant',
    invite(kInv({ sessionId: BAD_VARIANT_UUID })),
    'invitation.sessionId',
  ],
  ['sessionId in upper case', invite(kInv({ sessionId: UPPER_UUID })), 'invitation.sessionId'],
  [
    'sessionId without dashes',
    invite(kInv({ sessionId: SESSION.replaceAll('-', '') })),
    'invitation.sessionId',
  ],
  ['sessionId in braces', invite(kInv({ sessionId: `{${SESSION}}` })), 'invitation.sessionId'],
  ['coordinator missing', invite(without(kInv(), 'coordinator')), 'invitation.coordinator'],
  ['coordinator a number', invite(kInv({ coordinator: 7 })), 'invitation.coordinator'],
  [
    'coordinator with a non-base58 digit',
    invite(kInv({ coordinator: badPeer })),
    'invitation.coordinator',
  ],
  ['coordinator too short', invite(kInv({ coordinator: 'abc' })), 'invitation.coordinator'],
  ['coordinator too long', invite(kInv({ coordinator: 'a'.repeat(65) })), 'invitation.coordinator'],
  [
    'coordinator with a leading space',
    invite(kInv({ coordinator: ' ' + alice })),
    'invitation.coordinator',
  ],
  ['recipient missing', invite(without(kInv(), 'recipient')), 'invitation.recipient'],
  ['recipient not a peer id', invite(kInv({ recipient: badPeer })), 'invitation.recipient'],
  ['recipient null', invite(kInv({ recipient: null })), 'invitation.recipient'],
  ['participants missing', invite(without(kInv(), 'participants')), 'invitation.participants'],
  ['participants a string', invite(kInv({ participants: alice })), 'invitation.participants'],
  ['participants empty', invite(kInv({ participants: [] })), 'invitation.participants'],
  ['participants of one', invite(kInv({ participants: [alice] })), 'invitation.participants'],
  [
    `participants of ${MAX_PARTIES + 1}`,
    invite(kInv({ participants: peers.slice(0, MAX_PARTIES + 1) })),
    'invitation.participants',
  ],
  [
    'participants repeated',
    invite(kInv({ participants: [alice, bob, alice] })),
    'invitation.participants',
  ],
  [
    'participants without the recipient',
    invite(kInv({ participants: [bob, carol] })),
    'invitation.participants',
  ],
  [
    'participant a number',
    invite(kInv({ participants: [alice, 5] })),
    'invitation.participants[1]',
  ],
  [
    'participant not a peer id',
    invite(kInv({ participants: [alice, bob, badPeer] })),
    'invitation.participants[2]',
  ],
  ['nonce missing', invite(without(kInv(), 'nonce')), 'invitation.nonce'],
  ['nonce of 31 bytes', invite(kInv({ nonce: 'ab'.repeat(31) })), 'invitation.nonce'],
  ['nonce of 33 bytes', invite(kInv({ nonce: 'ab'.repeat(33) })), 'invitation.nonce'],
  ['nonce in upper case', invite(kInv({ nonce: NONCE.toUpperCase() })), 'invitation.nonce'],
  ['nonce with 0x', invite(kInv({ nonce: '0x' + 'ab'.repeat(31) })), 'invitation.nonce'],
  ['nonce a number', invite(kInv({ nonce: 12 })), 'invitation.nonce'],
  ['expiresAt missing', invite(without(kInv(), 'expiresAt')), 'invitation.expiresAt'],
  ['expiresAt negative', invite(kInv({ expiresAt: -1 })), 'invitation.expiresAt'],
  ['expiresAt not an integer', invite(kInv({ expiresAt: 1.5 })), 'invitation.expiresAt'],
  ['expiresAt a string', invite(kInv({ expiresAt: '1700000000000' })), 'invitation.expiresAt'],
  [
    'expiresAt past the Date range',
    invite(kInv({ expiresAt: 8.64e15 + 1 })),
    'invitation.expiresAt',
  ],
  ['expiresAt null', invite(kInv({ expiresAt: null })), 'invitation.expiresAt'],
  ['joinToken missing', invite(without(kInv(), 'joinToken')), 'invitation.joinToken'],
  ['joinToken not a UUID v4', invite(kInv({ joinToken: V1_UUID })), 'invitation.joinToken'],
  ['joinToken a number', invite(kInv({ joinToken: 1 })), 'invitation.joinToken'],
  // params (both kinds)
  ['params missing', invite(without(kInv(), 'params')), 'params.kind'],
  ['params null', invite(kInv({ params: null })), 'params.kind'],
  ['params an array', invite(kInv({ params: [] })), 'params.kind'],
  ['params of an unknown kind', invite(kParams({ kind: 'refresh' })), 'params.kind'],
  // keygen params
  ['keygen params with an unknown field', invite(kParams({ extra: 1 })), 'params.extra'],
  ['keygen params with a sign field', invite(kParams({ keyId: KEY_ID })), 'params.keyId'],
  [
    'threshold missing',
    invite(kInv({ params: without(KEYGEN_PARAMS, 'threshold') })),
    'params.threshold',
  ],
  ['threshold 1', invite(kParams({ threshold: 1 })), 'params.threshold'],
  ['threshold 0', invite(kParams({ threshold: 0 })), 'params.threshold'],
  ['threshold negative', invite(kParams({ threshold: -2 })), 'params.threshold'],
  ['threshold above n', invite(kParams({ threshold: 4 })), 'params.threshold'],
  ['threshold not an integer', invite(kParams({ threshold: 2.5 })), 'params.threshold'],
  ['threshold a string', invite(kParams({ threshold: '2' })), 'params.threshold'],
  ['level missing', invite(kInv({ params: without(KEYGEN_PARAMS, 'level') })), 'params.level'],
  ['level unknown', invite(kParams({ level: 'level256' })), 'params.level'],
  ['level in upper case', invite(kParams({ level: 'LEVEL112' })), 'params.level'],
  ['level a number', invite(kParams({ level: 112 })), 'params.level'],
  // sign params
  ['sign params with an unknown field', invite(sParams({ extra: 1 })), 'params.extra'],
  ['sign params with a keygen field', invite(sParams({ threshold: 2 })), 'params.threshold'],
  ['keyId missing', invite(sInv({ params: without(SIGN_PARAMS, 'keyId') })), 'params.keyId'],
  ['keyId of 31 hex digits', invite(sParams({ keyId: KEY_ID.slice(1) })), 'params.keyId'],
  ['keyId of 33 hex digits', invite(sParams({ keyId: KEY_ID + '0' })), 'params.keyId'],
  ['keyId in upper case', invite(sParams({ keyId: KEY_ID.toUpperCase() })), 'params.keyId'],
  ['keyId not hex', invite(sParams({ keyId: 'g' + KEY_ID.slice(1) })), 'params.keyId'],
  ['keyId a number', invite(sParams({ keyId: 1 })), 'params.keyId'],
  ['digest missing', invite(sInv({ params: without(SIGN_PARAMS, 'digest') })), 'params.digest'],
  ['digest of 31 bytes', invite(sParams({ digest: '11'.repeat(31) })), 'params.digest'],
  ['digest of 33 bytes', invite(sParams({ digest: '11'.repeat(33) })), 'params.digest'],
  ['digest in upper case', invite(sParams({ digest: 'AB'.repeat(32) })), 'params.digest'],
  ['digest with 0x', invite(sParams({ digest: '0x' + '11'.repeat(31) })), 'params.digest'],
  ['digest a number', invite(sParams({ digest: 17 })), 'params.digest'],
  ['hashing missing', invite(sInv({ params: without(SIGN_PARAMS, 'hashing') })), 'params.hashing'],
  ['hashing unknown', invite(sParams({ hashing: 'md5' })), 'params.hashing'],
  ['hashing in upper case', invite(sParams({ hashing: 'SHA256' })), 'params.hashing'],
  ['hashing null', invite(sParams({ hashing: null })), 'params.hashing'],
  ['message in upper case', invite(sParams({ message: MESSAGE.toUpperCase() })), 'params.message'],
  ['message of odd length', invite(sParams({ message: MESSAGE + 'a' })), 'params.message'],
  ['message not hex', invite(sParams({ message: 'hello' })), 'params.message'],
  ['message a number', invite(sParams({ message: 5 })), 'params.message'],
  ['message null', invite(sParams({ message: null })), 'params.message'],
  [
    'message one byte too long',
    invite(sParams({ message: '00'.repeat(MAX_SIGN_MESSAGE_BYTES + 1) })),
    'params.message',
  ],
  ["hashing 'none' with a message", invite(sParams({ hashing: 'none' })), 'params.hashing'],
  ...(['keccak256', 'sha256', 'eth-personal'] as const).map(
    (hashing): [string, unknown, string] => [
      `hashing ${hashing} without a message`,
      invite(sInv({ params: { ...without(SIGN_PARAMS, 'message'), hashing } })),
      'params.message',
    ]
  ),
];

const SIMPLE_REJECTIONS: Array<[string, unknown, string]> = [
  ['a frame of null', null, 'request.type'],
  ['a frame of a number', 5, 'request.type'],
  ['a frame of a string', 'invite', 'request.type'],
  ['a frame of an array', [{ type: 'ready', sessionId: SESSION }], 'request.type'],
  ['type missing', { sessionId: SESSION }, 'request.type'],
  ['type unknown', { type: 'refresh', sessionId: SESSION }, 'request.type'],
  ['type in upper case', { type: 'READY', sessionId: SESSION }, 'request.type'],
  ['type a number', { type: 1, sessionId: SESSION }, 'request.type'],
  ['type an inherited name', { type: 'toString', sessionId: SESSION }, 'request.type'],
  ['join without sessionId', { type: 'join', joinToken: TOKEN }, 'request.sessionId'],
  [
    'join with a bad sessionId',
    { type: 'join', sessionId: UPPER_UUID, joinToken: TOKEN },
    'request.sessionId',
  ],
  ['join without joinToken', { type: 'join', sessionId: SESSION }, 'request.joinToken'],
  [
    'join with a bad joinToken',
    { type: 'join', sessionId: SESSION, joinToken: V1_UUID },
    'request.joinToken',
  ],
  [
    'join with an unknown field',
    { type: 'join', sessionId: SESSION, joinToken: TOKEN, x: 1 },
    'request.x',
  ],
  ['ready without sessionId', { type: 'ready' }, 'request.sessionId'],
  ['ready with a numeric sessionId', { type: 'ready', sessionId: 1 }, 'request.sessionId'],
  [
    'ready with a joinToken',
    { type: 'ready', sessionId: SESSION, joinToken: TOKEN },
    'request.joinToken',
  ],
  ['start without sessionId', { type: 'start' }, 'request.sessionId'],
  [
    'start with a bad sessionId',
    { type: 'start', sessionId: BAD_VARIANT_UUID },
    'request.sessionId',
  ],
  ['start with an unknown field', { type: 'start', sessionId: SESSION, now: true }, 'request.now'],
  ['abort without reason', { type: 'abort', sessionId: SESSION }, 'request.reason'],
  ['abort without sessionId', { type: 'abort', reason: 'x' }, 'request.sessionId'],
  [
    'abort with a 257-character reason',
    { type: 'abort', sessionId: SESSION, reason: 'x'.repeat(257) },
    'request.reason',
  ],
  [
    'abort with a newline in the reason',
    { type: 'abort', sessionId: SESSION, reason: 'a\nb' },
    'request.reason',
  ],
  [
    'abort with a numeric reason',
    { type: 'abort', sessionId: SESSION, reason: 5 },
    'request.reason',
  ],
  [
    'abort with an unknown field',
    { type: 'abort', sessionId: SESSION, reason: 'x', y: 1 },
    'request.y',
  ],
];

const rep = (r: Report, over: Loose = {}): Loose => ({ ...r, ...over });
const out = (r: Report, over: Loose): Loose => ({ ...r, output: { ...r.output, ...over } });
const culprit = { party: bob, reason: 'bad-proof:enc' };

const REPORT_REJECTIONS: Array<[string, unknown, string]> = [
  ['request with an unknown field', { ...reportReq(rep(failedReport)), x: 1 }, 'request.x'],
  ['request without report', without(reportReq(rep(failedReport)), 'report'), 'report'],
  ['report that is an array', reportReq([]), 'report'],
  ['signature missing', without(reportReq(rep(failedReport)), 'signature'), 'request.signature'],
  ['signature too short', reportReq(rep(failedReport), 'cd'), 'request.signature'],
  ['report with an unknown field', reportReq(rep(failedReport, { extra: 1 })), 'report.extra'],
  ['v missing', reportReq(without(failedReport, 'v')), 'report.v'],
  ['v = 2', reportReq(rep(failedReport, { v: 2 })), 'report.v'],
  [
    'sessionId not a UUID v4',
    reportReq(rep(failedReport, { sessionId: V1_UUID })),
    'report.sessionId',
  ],
  ['sessionId missing', reportReq(without(failedReport, 'sessionId')), 'report.sessionId'],
  ['party missing', reportReq(without(failedReport, 'party')), 'report.party'],
  ['party not a peer id', reportReq(rep(failedReport, { party: badPeer })), 'report.party'],
  ['outcome missing', reportReq(without(failedReport, 'outcome')), 'report.outcome'],
  ['outcome unknown', reportReq(rep(failedReport, { outcome: 'ok' })), 'report.outcome'],
  ['outcome a boolean', reportReq(rep(failedReport, { outcome: true })), 'report.outcome'],
  // completed
  ['completed report with a reason', reportReq(rep(keygenReport, { reason: 'timeout' })), 'report'],
  ['completed report with a detail', reportReq(rep(keygenReport, { detail: 'fine' })), 'report'],
  ['completed report with culprits', reportReq(rep(keygenReport, { culprits: [] })), 'report'],
  ['completed report without output', reportReq(without(keygenReport, 'output')), 'output.kind'],
  ['output of an unknown kind', reportReq(out(keygenReport, { kind: 'refresh' })), 'output.kind'],
  ['output null', reportReq(rep(keygenReport, { output: null })), 'output.kind'],
  ['keygen output with an unknown field', reportReq(out(keygenReport, { x: 1 })), 'output.x'],
  ['keygen output with a sign field', reportReq(out(keygenReport, { r: R })), 'output.r'],
  ['output keyId too short', reportReq(out(keygenReport, { keyId: 'ab' })), 'output.keyId'],
  [
    'output keyId in upper case',
    reportReq(out(keygenReport, { keyId: KEY_ID.toUpperCase() })),
    'output.keyId',
  ],
  [
    'output publicKey of 32 bytes',
    reportReq(out(keygenReport, { publicKey: '5c'.repeat(32) })),
    'output.publicKey',
  ],
  [
    'output publicKey in upper case',
    reportReq(out(keygenReport, { publicKey: '02' + '5C'.repeat(32) })),
    'output.publicKey',
  ],
  [
    'output address without 0x',
    reportReq(out(keygenReport, { address: 'ab'.repeat(20) })),
    'output.address',
  ],
  [
    'output address of 19 bytes',
    reportReq(out(keygenReport, { address: '0x' + 'ab'.repeat(19) })),
    'output.address',
  ],
  [
    'output address missing',
    reportReq(rep(keygenReport, { output: without(keygenReport.output!, 'address') })),
    'output.address',
  ],
  ['sign output with an unknown field', reportReq(out(signReport, { v: 27 })), 'output.v'],
  ['output r of 31 bytes', reportReq(out(signReport, { r: '2a'.repeat(31) })), 'output.r'],
  ['output s in upper case', reportReq(out(signReport, { s: S.toUpperCase() })), 'output.s'],
  [
    'output s missing',
    reportReq(rep(signReport, { output: without(signReport.output!, 's') })),
    'output.s',
  ],
  ['output recid 4', reportReq(out(signReport, { recid: 4 })), 'output.recid'],
  ['output recid -1', reportReq(out(signReport, { recid: -1 })), 'output.recid'],
  ['output recid 0.5', reportReq(out(signReport, { recid: 0.5 })), 'output.recid'],
  ['output recid a string', reportReq(out(signReport, { recid: '0' })), 'output.recid'],
  [
    'output signature65 of 64 bytes',
    reportReq(out(signReport, { signature65: R + S })),
    'output.signature65',
  ],
  [
    'output der not a SEQUENCE',
    reportReq(out(signReport, { der: `31440220${R}0220${S}` })),
    'output.der',
  ],
  ['output der too short', reportReq(out(signReport, { der: '3000' })), 'output.der'],
  [
    'output der too long',
    reportReq(out(signReport, { der: '30' + 'ab'.repeat(72) })),
    'output.der',
  ],
  // failed
  [
    'failed report with an output',
    reportReq(rep(failedReport, { output: keygenReport.output })),
    'report.output',
  ],
  ['failed report without reason', reportReq(without(failedReport, 'reason')), 'report.reason'],
  ['reason empty', reportReq(rep(failedReport, { reason: '' })), 'report.reason'],
  ['reason in upper case', reportReq(rep(failedReport, { reason: 'Timeout' })), 'report.reason'],
  ['reason with a space', reportReq(rep(failedReport, { reason: 'time out' })), 'report.reason'],
  [
    'reason with a leading dash',
    reportReq(rep(failedReport, { reason: '-timeout' })),
    'report.reason',
  ],
  ['reason with a slash', reportReq(rep(failedReport, { reason: 'a/b' })), 'report.reason'],
  ['reason with a newline', reportReq(rep(failedReport, { reason: 'timeout\n' })), 'report.reason'],
  [
    'reason of 129 characters',
    reportReq(rep(failedReport, { reason: 'a'.repeat(129) })),
    'report.reason',
  ],
  ['reason a number', reportReq(rep(failedReport, { reason: 3 })), 'report.reason'],
  ['culprits a string', reportReq(rep(failedReport, { culprits: bob })), 'report.culprits'],
  ['culprits an object', reportReq(rep(failedReport, { culprits: culprit })), 'report.culprits'],
  [
    `${MAX_PARTIES + 1} culprits`,
    reportReq(
      rep(failedReport, {
        culprits: peers.slice(0, MAX_PARTIES + 1).map((party) => ({ party, reason: 'x' })),
      })
    ),
    'report.culprits',
  ],
  [
    'a culprit that is a string',
    reportReq(rep(failedReport, { culprits: [bob] })),
    'report.culprits[0]',
  ],
  [
    'a culprit that is null',
    reportReq(rep(failedReport, { culprits: [culprit, null] })),
    'report.culprits[1]',
  ],
  [
    'a culprit with an unknown field',
    reportReq(rep(failedReport, { culprits: [{ ...culprit, round: 2 }] })),
    'report.culprits[0].round',
  ],
  [
    'a culprit without party',
    reportReq(rep(failedReport, { culprits: [{ reason: 'x' }] })),
    'report.culprits[0].party',
  ],
  [
    'a culprit with a bad party',
    reportReq(rep(failedReport, { culprits: [culprit, { party: badPeer, reason: 'x' }] })),
    'report.culprits[1].party',
  ],
  [
    'a culprit without reason',
    reportReq(rep(failedReport, { culprits: [{ party: bob }] })),
    'report.culprits[0].reason',
  ],
  [
    'a culprit with a bad reason code',
    reportReq(rep(failedReport, { culprits: [{ party: bob, reason: 'Bad Proof' }] })),
    'report.culprits[0].reason',
  ],
  [
    'detail with a newline',
    reportReq(rep(failedReport, { detail: 'line 1\nline 2' })),
    'report.detail',
  ],
  ['detail with a NUL', reportReq(rep(failedReport, { detail: 'a\u0000b' })), 'report.detail'],
  [
    'detail with an ANSI escape',
    reportReq(rep(failedReport, { detail: '\u001b[31mred' })),
    'report.detail',
  ],
  ['detail with a tab', reportReq(rep(failedReport, { detail: 'a\tb' })), 'report.detail'],
  [
    'detail with a carriage return',
    reportReq(rep(failedReport, { detail: 'ok\rFAKE' })),
    'report.detail',
  ],
  [
    'detail of 1025 characters',
    reportReq(rep(failedReport, { detail: 'd'.repeat(1025) })),
    'report.detail',
  ],
  ['detail a number', reportReq(rep(failedReport, { detail: 5 })), 'report.detail'],
  ['detail null', reportReq(rep(failedReport, { detail: null })), 'report.detail'],
];

/** Reorder a table row to (label, field, request) so test names show the field. */
const byField = (rows: Array<[string, unknown, string]>): Array<[string, string, unknown]> =>
  rows.map(([label, req, field]) => [label, field, req]);

describe('field rejections', () => {
  it('the bases of the tables decode', () => {
    for (const req of [invite(kInv()), invite(sInv()), reportReq(rep(failedReport))]) {
      expect(() => decodeControlRequest(frame(req))).not.toThrow();
    }
    expect(() => decodeControlRequest(frame(reportReq(rep(keygenReport))))).not.toThrow();
    expect(() => decodeControlRequest(frame(reportReq(rep(signReport))))).not.toThrow();
  });

  it.each(byField(INVITE_REJECTIONS))('invite: %s → %s', (_label, field, req) => {
    expect(fieldOf(() => decodeControlRequest(frame(req)))).toBe(field);
  });

  it.each(byField(SIMPLE_REJECTIONS))('%s → %s', (_label, field, req) => {
    expect(fieldOf(() => decodeControlRequest(frame(req)))).toBe(field);
  });

  it.each(byField(REPORT_REJECTIONS))('report: %s → %s', (_label, field, req) => {
    expect(fieldOf(() => decodeControlRequest(frame(req)))).toBe(field);
  });

  it('decodeInvitation / decodeReport name the same fields when called directly', () => {
    expect(fieldOf(() => decodeInvitation(kInv({ nonce: 'AB'.repeat(32) })))).toBe(
      'invitation.nonce'
    );
    expect(fieldOf(() => decodeInvitation(undefined))).toBe('invitation');
    expect(fieldOf(() => decodeReport(rep(failedReport, { culprits: [1] })))).toBe(
      'report.culprits[0]'
    );
    expect(fieldOf(() => decodeReport(42))).toBe('report');
  });

  // DEL (U+007F) and the C1 controls U+0080–U+009F are control characters too (Unicode Cc):
  // U+009B is a one-byte CSI in terminals that honour C1, so `detail` could inject escapes into a
  // coordinator's log or the `mpc` CLI's output.
  it.each([
    ['DEL', 'a\u007fb'],
    ['C1 CSI', '\u009b31mred'],
    ['C1 NEL', 'a\u0085b'],
  ])('detail with %s is refused as a control character', (_label, detail) => {
    expect(
      fieldOf(() => decodeControlRequest(frame(reportReq(rep(failedReport, { detail })))))
    ).toBe('report.detail');
  });

  // Strict decoding refuses wrong types: null is not an empty list.
  it('culprits: null is refused as a wrong type', () => {
    expect(
      fieldOf(() => decodeControlRequest(frame(reportReq(rep(failedReport, { culprits: null })))))
    ).toBe('report.culprits');
  });
});

// ---- frames ------------------------------------------------------------------------------------

describe('frames', () => {
  it.each<[string, number[]]>([
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['0xff', [0xff, 0xfe]],
    ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
  ])('refuses bytes that are not UTF-8: %s', (_label, bytes) => {
    expect(fieldOf(() => decodeControlRequest(new Uint8Array(bytes)))).toBe('frame');
    expect(fieldOf(() => decodeControlResponse(new Uint8Array(bytes)))).toBe('frame');
  });

  it.each(['', '{', '{"type":"ready",}', "{'type':'ready'}", 'undefined', 'NaN', '{"a":1}x'])(
    'refuses text that is not JSON: %j',
    (text) => {
      expect(fieldOf(() => decodeControlRequest(utf8.encode(text)))).toBe('frame');
      expect(fieldOf(() => decodeControlResponse(utf8.encode(text)))).toBe('frame');
    }
  );

  it('accepts a valid frame of exactly MAX_CONTROL_FRAME bytes and refuses one byte more', () => {
    const body = frame({ type: 'ready', sessionId: SESSION });
    const pad = (n: number): Uint8Array => {
      const b = new Uint8Array(n).fill(0x20); // JSON whitespace
      b.set(body);
      return b;
    };
    expect(decodeControlRequest(pad(MAX_CONTROL_FRAME))).toStrictEqual({
      type: 'ready',
      sessionId: SESSION,
    });
    expect(fieldOf(() => decodeControlRequest(pad(MAX_CONTROL_FRAME + 1)))).toBe('frame');
    expect(fieldOf(() => decodeControlResponse(pad(MAX_CONTROL_FRAME + 1)))).toBe('frame');
  });

  it('a deeply nested frame is refused as a DecodeError, not a crash', () => {
    const depth = 100_000;
    const deep = utf8.encode('['.repeat(depth) + ']'.repeat(depth));
    expect(() => decodeControlRequest(deep)).toThrow(DecodeError);
  });
});

describe('responses', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'response'],
    ['an array', [], 'response'],
    ['an unknown field', { ok: true, extra: 1 }, 'response.extra'],
    ['ok missing', {}, 'response.ok'],
    ['ok a string', { ok: 'yes' }, 'response.ok'],
    ['ok = 1', { ok: 1 }, 'response.ok'],
    ['ok with an error', { ok: true, error: { code: 'x', message: 'y' } }, 'response.error'],
    ['a refusal without error', { ok: false }, 'response.error'],
    ['an error that is a string', { ok: false, error: 'nope' }, 'response.error'],
    [
      'an error with an unknown field',
      { ok: false, error: { code: 'x', message: 'y', z: 1 } },
      'response.error.z',
    ],
    ['an error without code', { ok: false, error: { message: 'y' } }, 'response.error.code'],
    [
      'an error code in upper case',
      { ok: false, error: { code: 'BAD', message: 'y' } },
      'response.error.code',
    ],
    ['an error without message', { ok: false, error: { code: 'x' } }, 'response.error.message'],
    [
      'an error message of 1025 characters',
      { ok: false, error: { code: 'x', message: 'm'.repeat(1025) } },
      'response.error.message',
    ],
    [
      'an error message with an escape',
      { ok: false, error: { code: 'x', message: '\u001b[2J' } },
      'response.error.message',
    ],
  ])('refuses %s → %s', (_label, res, field) => {
    expect(fieldOf(() => decodeControlResponse(frame(res)))).toBe(field);
  });
});

// ---- signatures --------------------------------------------------------------------------------

type Mutation<T> = readonly [field: string, label: string, mutate: (x: T) => T];

const otherPeer = peers[5]!;
const INVITATION_MUTATIONS: ReadonlyArray<Mutation<Invitation>> = [
  ['v', 'v = 2', (i) => ({ ...i, v: 2 as 1 })],
  ['sessionId', 'another sessionId', (i) => ({ ...i, sessionId: TOKEN })],
  ['coordinator', 'another coordinator', (i) => ({ ...i, coordinator: rogue!.peer })],
  ['recipient', 'another recipient', (i) => ({ ...i, recipient: bob })],
  [
    'participants',
    'participants reordered',
    (i) => ({ ...i, participants: [...i.participants].reverse() }),
  ],
  [
    'participants',
    'one participant replaced',
    (i) => ({ ...i, participants: [...i.participants.slice(0, -1), otherPeer] }),
  ],
  [
    'participants',
    'one participant added',
    (i) => ({ ...i, participants: [...i.participants, otherPeer] }),
  ],
  [
    'participants',
    'one participant dropped',
    (i) => ({ ...i, participants: i.participants.slice(0, -1) }),
  ],
  ['nonce', 'another nonce', (i) => ({ ...i, nonce: 'ac' + NONCE.slice(2) })],
  ['expiresAt', 'expiry one ms later', (i) => ({ ...i, expiresAt: i.expiresAt + 1 })],
  ['joinToken', 'another joinToken', (i) => ({ ...i, joinToken: SESSION })],
  [
    'params.kind',
    'keygen ↔ sign',
    (i) => ({ ...i, params: i.params.kind === 'keygen' ? SIGN_PARAMS : KEYGEN_PARAMS }),
  ],
];
const KEYGEN_MUTATIONS: ReadonlyArray<Mutation<Invitation>> = [
  [
    'params.threshold',
    'threshold 3',
    (i) => ({ ...i, params: { ...KEYGEN_PARAMS, threshold: 3 } }),
  ],
  ['params.level', 'level128', (i) => ({ ...i, params: { ...KEYGEN_PARAMS, level: 'level128' } })],
];
const SIGN_MUTATIONS: ReadonlyArray<Mutation<Invitation>> = [
  [
    'params.keyId',
    'another keyId',
    (i) => ({ ...i, params: { ...SIGN_PARAMS, keyId: 'f' + KEY_ID.slice(1) } }),
  ],
  [
    'params.digest',
    'another digest',
    (i) => ({ ...i, params: { ...SIGN_PARAMS, digest: '12' + DIGEST.slice(2) } }),
  ],
  ['params.hashing', 'sha256', (i) => ({ ...i, params: { ...SIGN_PARAMS, hashing: 'sha256' } })],
  [
    'params.hashing',
    'eth-personal',
    (i) => ({ ...i, params: { ...SIGN_PARAMS, hashing: 'eth-personal' } }),
  ],
  [
    'params.message',
    'another message',
    (i) => ({ ...i, params: { ...SIGN_PARAMS, message: MESSAGE + '00' } }),
  ],
  ['params.message', 'empty message', (i) => ({ ...i, params: { ...SIGN_PARAMS, message: '' } })],
  [
    'params.message',
    'no message',
    (i) => ({ ...i, params: without(SIGN_PARAMS, 'message') as unknown as SignParams }),
  ],
];

const REPORT_MUTATIONS: ReadonlyArray<Mutation<Report>> = [
  ['v', 'v = 2', (r) => ({ ...r, v: 2 as 1 })],
  ['sessionId', 'another sessionId', (r) => ({ ...r, sessionId: TOKEN })],
  ['party', 'another party', (r) => ({ ...r, party: otherPeer })],
  [
    'outcome',
    'outcome flipped',
    (r) => ({ ...r, outcome: r.outcome === 'failed' ? 'completed' : 'failed' }),
  ],
];
const FAILED_MUTATIONS: ReadonlyArray<Mutation<Report>> = [
  ['output', 'an output added', (r) => ({ ...r, output: keygenReport.output })],
  ['reason', 'another reason', (r) => ({ ...r, reason: 'timeout' })],
  ['reason', 'no reason', (r) => without(r, 'reason') as unknown as Report],
  ['detail', 'another detail', (r) => ({ ...r, detail: r.detail + '.' })],
  ['detail', 'empty detail', (r) => ({ ...r, detail: '' })],
  ['detail', 'no detail', (r) => without(r, 'detail') as unknown as Report],
  ['culprits', 'culprits reordered', (r) => ({ ...r, culprits: [...r.culprits!].reverse() })],
  ['culprits', 'a culprit dropped', (r) => ({ ...r, culprits: r.culprits!.slice(1) })],
  [
    'culprits',
    'a culprit added',
    (r) => ({ ...r, culprits: [...r.culprits!, { party: otherPeer, reason: 'x' }] }),
  ],
  [
    'culprits[].party',
    'a culprit party changed',
    (r) => ({
      ...r,
      culprits: [{ ...r.culprits![0]!, party: otherPeer }, ...r.culprits!.slice(1)],
    }),
  ],
  [
    'culprits[].reason',
    'a culprit reason changed',
    (r) => ({
      ...r,
      culprits: [{ ...r.culprits![0]!, reason: 'timeout' }, ...r.culprits!.slice(1)],
    }),
  ],
  // moving text between adjacent fields must not keep the bytes (length prefixes)
  [
    'culprits[].party',
    'text moved between culprit fields',
    (r) => ({
      ...r,
      culprits: [{ party: bob + 'b', reason: 'ad-proof:enc' }, ...r.culprits!.slice(1)],
    }),
  ],
];
const withOutput = (r: Report, over: Loose): Report => ({
  ...r,
  output: { ...r.output, ...over } as Report['output'],
});
const KEYGEN_OUTPUT_MUTATIONS: ReadonlyArray<Mutation<Report>> = [
  ['output.kind', 'keygen output → sign output', (r) => ({ ...r, output: signReport.output })],
  ['output.keyId', 'another keyId', (r) => withOutput(r, { keyId: 'f' + KEY_ID.slice(1) })],
  [
    'output.publicKey',
    'another publicKey',
    (r) => withOutput(r, { publicKey: '03' + '5c'.repeat(32) }),
  ],
  [
    'output.address',
    'address case changed',
    (r) => withOutput(r, { address: '0x' + 'Ab'.repeat(20) }),
  ],
  ['output', 'no output', (r) => without(r, 'output') as unknown as Report],
  ['reason', 'a reason added', (r) => ({ ...r, reason: 'timeout' })],
  ['detail', 'a detail added', (r) => ({ ...r, detail: '' })],
  ['culprits', 'a culprit added', (r) => ({ ...r, culprits: [{ party: bob, reason: 'x' }] })],
];
const SIGN_OUTPUT_MUTATIONS: ReadonlyArray<Mutation<Report>> = [
  ['output.r', 'another r', (r) => withOutput(r, { r: S })],
  ['output.s', 'another s', (r) => withOutput(r, { s: R })],
  ['output.recid', 'another recid', (r) => withOutput(r, { recid: 0 })],
  [
    'output.signature65',
    'another signature65',
    (r) => withOutput(r, { signature65: R + S + '1b' }),
  ],
  ['output.der', 'another der', (r) => withOutput(r, { der: `30450221${'00' + R}0220${S}` })],
];

const invitationCases = [
  ...[...INVITATION_MUTATIONS, ...KEYGEN_MUTATIONS].map(
    (m) => ['keygen', m[0], m[1], keygenInvitation, m[2]] as const
  ),
  ...[...INVITATION_MUTATIONS, ...SIGN_MUTATIONS].map(
    (m) => ['sign', m[0], m[1], signInvitation, m[2]] as const
  ),
];
const reportCases = [
  ...[...REPORT_MUTATIONS, ...FAILED_MUTATIONS].map(
    (m) => ['failed', m[0], m[1], failedReport, m[2]] as const
  ),
  ...[...REPORT_MUTATIONS, ...KEYGEN_OUTPUT_MUTATIONS].map(
    (m) => ['keygen', m[0], m[1], keygenReport, m[2]] as const
  ),
  ...[...REPORT_MUTATIONS, ...SIGN_OUTPUT_MUTATIONS].map(
    (m) => ['sign', m[0], m[1], signReport, m[2]] as const
  ),
];

describe('signatures', () => {
  const key = coord!;

  it('a signed invitation verifies, also after encode → decode', () => {
    for (const inv of [keygenInvitation, signInvitation]) {
      const signature = signControl(invitationSigningBytes(inv), key.seed);
      expect(signature).toMatch(/^[0-9a-f]{128}$/);
      expect(verifyControl(invitationSigningBytes(inv), signature, key.publicKey)).toBe(true);
      const got = decodeControlRequest(
        encodeControl({ type: 'invite', invitation: inv, signature })
      );
      if (got.type !== 'invite') throw new Error('decoded another type');
      expect(
        verifyControl(invitationSigningBytes(got.invitation), got.signature, key.publicKey)
      ).toBe(true);
    }
  });

  it('a signed report verifies, also after encode → decode', () => {
    for (const report of [failedReport, keygenReport, signReport]) {
      const signature = signControl(reportSigningBytes(report), key.seed);
      expect(verifyControl(reportSigningBytes(report), signature, key.publicKey)).toBe(true);
      const got = decodeControlRequest(encodeControl({ type: 'report', report, signature }));
      if (got.type !== 'report') throw new Error('decoded another type');
      expect(verifyControl(reportSigningBytes(got.report), got.signature, key.publicKey)).toBe(
        true
      );
    }
  });

  it('the invitation mutations cover every field of both param kinds', () => {
    const covered = new Set(invitationCases.map((c) => c[1]));
    const expected = new Set([
      ...Object.keys(keygenInvitation).filter((k) => k !== 'params'),
      ...[...Object.keys(KEYGEN_PARAMS), ...Object.keys(SIGN_PARAMS)].map((k) => `params.${k}`),
    ]);
    expect(covered).toEqual(expected);
  });

  it('the report mutations cover every field of every report shape', () => {
    const covered = new Set(reportCases.map((c) => c[1]));
    const expected = new Set([
      ...Object.keys(failedReport),
      'output',
      ...[...Object.keys(keygenReport.output!), ...Object.keys(signReport.output!)].map(
        (k) => `output.${k}`
      ),
      'culprits[].party',
      'culprits[].reason',
    ]);
    expect(covered).toEqual(expected);
  });

  it.each(invitationCases)(
    '%s invitation: changing %s (%s) breaks the signature',
    (_kind, _field, _label, base, mutate) => {
      const signature = signControl(invitationSigningBytes(base), key.seed);
      const changed = mutate(base);
      expect(invitationSigningBytes(changed)).not.toEqual(invitationSigningBytes(base));
      expect(verifyControl(invitationSigningBytes(changed), signature, key.publicKey)).toBe(false);
    }
  );

  it.each(reportCases)(
    '%s report: changing %s (%s) breaks the signature',
    (_kind, _field, _label, base, mutate) => {
      const signature = signControl(reportSigningBytes(base), key.seed);
      const changed = mutate(base);
      expect(reportSigningBytes(changed)).not.toEqual(reportSigningBytes(base));
      expect(verifyControl(reportSigningBytes(changed), signature, key.publicKey)).toBe(false);
    }
  );

  it('a signature by another key does not verify; neither does an invitation signature as a report', () => {
    const bytes = invitationSigningBytes(keygenInvitation);
    expect(verifyControl(bytes, signControl(bytes, rogue!.seed), key.publicKey)).toBe(false);
    const sig = signControl(bytes, key.seed);
    expect(verifyControl(reportSigningBytes(failedReport), sig, key.publicKey)).toBe(false);
  });

  it('signControl refuses a secret key that is not a 32-byte seed', () => {
    for (const bad of [new Uint8Array(31), new Uint8Array(64), 'seed' as unknown as Uint8Array]) {
      let err: unknown;
      try {
        signControl(new Uint8Array(1), bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgs);
      expect((err as InvalidArgs).field).toBe('secretKey');
    }
  });

  describe('verifyControl returns false and never throws', () => {
    const bytes = reportSigningBytes(failedReport);
    const good = signControl(bytes, key.seed);
    // S + L: the same point equation holds, but RFC 8032 (strict) requires S < L.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const sigBytes = Buffer.from(good, 'hex');
    const s = BigInt('0x' + Buffer.from(sigBytes.subarray(32)).reverse().toString('hex'));
    const malleable = Buffer.concat([
      sigBytes.subarray(0, 32),
      Buffer.from((s + L).toString(16).padStart(64, '0'), 'hex').reverse(),
    ]).toString('hex');

    it('the untouched signature verifies (control)', () => {
      expect(verifyControl(bytes, good, key.publicKey)).toBe(true);
    });

    it.each<[string, string]>([
      ['empty', ''],
      ['not hex', 'zz'.repeat(64)],
      ['one character short', good.slice(1)],
      ['one character long', good + '0'],
      ['upper-case hex of the valid signature', good.toUpperCase()],
      ['0x-prefixed', '0x' + good],
      ['all zeros', '00'.repeat(64)],
      ['all ff', 'ff'.repeat(64)],
      ['S + L (non-canonical S)', malleable],
      ['R not a point', 'ff'.repeat(32) + good.slice(64)],
      ['null', null as unknown as string],
      ['a number', 5 as unknown as string],
    ])('garbage signature: %s', (_label, sig) => {
      let result: boolean | undefined;
      expect(() => (result = verifyControl(bytes, sig, key.publicKey))).not.toThrow();
      expect(result).toBe(false);
    });

    it.each<[string, Uint8Array]>([
      ['empty', new Uint8Array(0)],
      ['31 bytes', key.publicKey.slice(0, 31)],
      ['33 bytes', Uint8Array.from([...key.publicKey, 0])],
      ['64 bytes (seed ‖ public key)', Uint8Array.from([...key.seed, ...key.publicKey])],
      ['the identity point', Uint8Array.from([1, ...new Array<number>(31).fill(0)])],
      ['a small-order point', new Uint8Array(32)],
      ['not on the curve', new Uint8Array(32).fill(0xff)],
      ['not bytes', 'key' as unknown as Uint8Array],
    ])('wrong key: %s', (_label, publicKey) => {
      let result: boolean | undefined;
      expect(() => (result = verifyControl(bytes, good, publicKey))).not.toThrow();
      expect(result).toBe(false);
    });

    it('is strict RFC 8032: a small-order key with R = identity, S = 0 (valid under ZIP-215) fails', () => {
      const identity = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
      const sig = Uint8Array.from([...identity, ...new Array<number>(32).fill(0)]);
      // the cofactored equation holds for any message, so a permissive verifier would accept it
      expect(ed25519.verify(sig, bytes, identity, { zip215: true })).toBe(true);
      expect(verifyControl(bytes, Buffer.from(sig).toString('hex'), identity)).toBe(false);
    });
  });
});

// ---- properties --------------------------------------------------------------------------------

/** Every JSON path (as key lists) of a value, objects and arrays included. */
function paths(
  v: unknown,
  prefix: ReadonlyArray<string | number> = []
): Array<Array<string | number>> {
  const here = [[...prefix]];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...prefix, i]))];
  if (typeof v === 'object' && v !== null)
    return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...prefix, k]))];
  return here;
}

/** A deep copy of `v` with the value at `path` replaced (or the key deleted when `value` is absent). */
function replaceAt(v: unknown, path: ReadonlyArray<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(at)) delete at[last];
  else at[last] = value;
  return copy;
}

const VALID_BASES: unknown[] = REQUESTS.map(([, r]) => JSON.parse(JSON.stringify(r)) as unknown);

describe('properties (fast-check)', () => {
  it('decoding arbitrary bytes throws nothing but DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        onlyDecodeError(() => decodeControlRequest(b));
        return onlyDecodeError(() => decodeControlResponse(b));
      }),
      { numRuns: 2000 }
    );
  });

  it('decoding arbitrary JSON values throws nothing but DecodeError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
        onlyDecodeError(() => decodeControlRequest(frame(v)));
        return onlyDecodeError(() => decodeControlResponse(frame(v)));
      }),
      { numRuns: 1000 }
    );
  });

  it('a valid request with one value replaced (or removed) by arbitrary JSON decodes to a fixed point or throws DecodeError', () => {
    const mutated = fc
      .constantFrom(...VALID_BASES)
      .chain((base) =>
        fc.tuple(
          fc.constant(base),
          fc.constantFrom(...paths(base)),
          fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined, freq: 5 })
        )
      );
    fc.assert(
      fc.property(mutated, ([base, path, value]) => {
        const b = frame(replaceAt(base, path, value));
        let decoded: ControlRequest;
        try {
          decoded = decodeControlRequest(b);
        } catch (err) {
          if (err instanceof DecodeError) return true;
          throw err;
        }
        // what decodes re-encodes to itself
        expect(decodeControlRequest(encodeControl(decoded))).toStrictEqual(decoded);
        return true;
      }),
      { numRuns: 2000 }
    );
  });
});
