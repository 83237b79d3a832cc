/**
 * What presign and sign rounds derive from a {@link KeyShare} and a signer set (CGGMP.md §5.4):
 * the level, Paillier keys, ring-Pedersen parameters, Lagrange-converted shares w_i = λ_i·x_i and
 * W_j = λ_j·X_j, the signer positions, and the ssid of C12.
 *
 * HD tweak (§5.4, C16): with an additive tweak δ_HD the target key is pk' = pk + δ_HD·G; exactly one
 * signer — the lowest index of S — adds δ_HD to its w and its W, so Σ_j w_j = x + δ_HD and
 * Σ_j W_j = pk'. Σ_j λ_j·X_j = pk is checked on the untweaked values first (C16), and χ absorbs
 * k·δ_HD through w, so sign never adds a k·shift of its own.
 *
 * Rebuilt at every round from plain state (state holds no class instances); the cost is a few
 * modular inverses for the CRT contexts plus one scalar multiplication per W_j, negligible next
 * to the proofs.
 * @module
 */
import { InvalidArgs } from '../../errors.js';
import { hashTagged, TAG_PREFIX } from '../../hash/transcript.js';
import { decodePoint, G, IDENTITY, modQ, mulPublic, type Point } from '../../math/curve.js';
import { PaillierPublicKey, PaillierSecretKey } from '../../paillier/paillier.js';
import type { RingPedersenParams } from '../../paillier/ring-pedersen.js';
import { levelByName, type SecurityLevel } from '../../params.js';
import type { PartyIndex } from '../../round/types.js';
import type { VerifyResult } from '../../zk/common.js';
import { lagrange, type KeyShare } from '../key-share.js';

/** Everything a presign/sign round needs from the key share and the signer set. */
export class SigningContext {
  readonly level: SecurityLevel;
  /** This party's roster index i. */
  readonly self: PartyIndex;
  /** Own Paillier key (SECRET: built from the key share's primes). */
  readonly sk: PaillierSecretKey;
  /** pk, the group public key. */
  readonly pk: Point;
  /** The key signatures verify under: pk' = pk + δ_HD·G (= pk without a tweak). */
  readonly target: Point;
  /** w_i = λ_i·x_i (+ δ_HD for the lowest signer) mod q (SECRET). */
  readonly w: bigint;
  /** t = |S|. */
  readonly t: number;
  private readonly pubs = new Map<PartyIndex, PaillierPublicKey>();
  private readonly Ws = new Map<PartyIndex, Point>();

  /**
   * @param share the key share (validated by the public API before the first round)
   * @param signers the sorted signer set S
   */
  constructor(
    readonly share: KeyShare,
    readonly signers: readonly PartyIndex[],
    /** δ_HD ∈ [0, q): an additive (non-hardened HD) tweak; 0 = none. */
    readonly tweak: bigint = 0n
  ) {
    this.level = levelByName(share.level);
    this.self = share.index;
    this.t = signers.length;
    this.sk = new PaillierSecretKey(share.ownAux.p, share.ownAux.q);
    this.pk = decodePoint(share.publicKey, 'publicKey');
    this.target = this.pk.add(mulPublic(G, tweak));
    // w_i = λ_i·x_i (§5.4): the additive share of pk among S; the lowest signer adds δ_HD.
    const shift = this.self === signers[0] ? tweak : 0n;
    this.w = modQ(lagrange(signers, this.self) * share.x + shift);
  }

  /** Position of roster index j in S. @throws InvalidArgs if j ∉ S. */
  pos(j: PartyIndex): number {
    const a = this.signers.indexOf(j);
    if (a < 0) throw new InvalidArgs('j', 'not a signer');
    return a;
  }

  /** The other signers, in increasing order. */
  get others(): PartyIndex[] {
    return this.signers.filter((j) => j !== this.self);
  }

  /** P_j's Paillier public key N_j. */
  paillier(j: PartyIndex): PaillierPublicKey {
    if (j === this.self) return this.sk;
    let key = this.pubs.get(j);
    if (!key) {
      key = new PaillierPublicKey(this.share.aux[j]!.N);
      this.pubs.set(j, key);
    }
    return key;
  }

  /** R_j = (N̂_j, s_j, t_j): P_j's ring-Pedersen parameters (N̂_j = N_j, dfns convention). */
  aux(j: PartyIndex): RingPedersenParams {
    return this.share.aux[j]!;
  }

  /** λ_j·X_j, untweaked (§5.4). Public values: variable-time multiplication. */
  private lambdaX(j: PartyIndex): Point {
    const X = decodePoint(this.share.publicShares[j]!, `publicShares[${j}]`);
    return mulPublic(X, lagrange(this.signers, j));
  }

  /** W_j = λ_j·X_j, plus δ_HD·G for the lowest signer (§5.4). */
  W(j: PartyIndex): Point {
    let P = this.Ws.get(j);
    if (!P) {
      P = this.lambdaX(j);
      if (j === this.signers[0] && this.tweak !== 0n) P = P.add(mulPublic(G, this.tweak));
      this.Ws.set(j, P);
    }
    return P;
  }

  /**
   * Σ_{j∈S} λ_j·X_j = pk, on the UNTWEAKED values (C16; SECURITY.md §3 case 24, §1.10).
   * With a tweak, Σ_j W_j = pk + δ_HD·G follows.
   */
  signerSetConsistent(): boolean {
    return this.signers.reduce((acc, j) => acc.add(this.lambdaX(j)), IDENTITY).equals(this.pk);
  }
}

/**
 * The ssid of C12 for presign and sign: SHAKE256(E(tag, sid, round-1 nonces by signer position,
 * pk, all X_j, all (N_j, s_j, t_j), rid, S, extra)). `extra` binds what a sign session adds (the
 * presignature id and the digest, CGGMP.md Decisions).
 */
export function computeSsid(
  protocol: 'presign' | 'sign',
  sid: Uint8Array,
  nonces: readonly Uint8Array[],
  share: KeyShare,
  signers: readonly PartyIndex[],
  extra: readonly Uint8Array[] = []
): Uint8Array {
  return hashTagged(`${TAG_PREFIX}${protocol}/ssid`, (e) =>
    e
      .bytes(sid)
      .list(nonces, (x, b) => x.bytes(b))
      .bytes(share.publicKey)
      .list(share.publicShares, (x, b) => x.bytes(b))
      .list(share.aux, (x, a) => x.nat(a.N).nat(a.s).nat(a.t))
      .bytes(share.rid)
      .list(signers, (x, j) => x.u32(j))
      .list(extra, (x, b) => x.bytes(b))
  );
}

/** Hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * The culprit reason of a failed proof, `bad-proof:<proof>:<check>` (protocol brief), or
 * undefined when the proof verified.
 */
export function proofReason(proof: string, r: VerifyResult): string | undefined {
  return r.ok ? undefined : `bad-proof:${proof}:${r.failure.check}`;
}
