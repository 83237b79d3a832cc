/**
 * Serialization of plain protocol data — round states, engine snapshots, key shares,
 * presignatures — to UTF-8 JSON and back, so a daemon can persist them (encrypted, in the keystore)
 * between rounds. Allowed values: bigint, number, string, boolean, null, Uint8Array, arrays and
 * plain objects. bigint becomes `{"$n": "<hex, '-' prefix for negatives>"}`, Uint8Array becomes
 * `{"$b": "<base64>"}`; anything else (class instances, points, functions) is refused, which keeps
 * protocol state honest about being plain data.
 * @module
 */
import { DecodeError, InvalidArgs } from '../errors.js';

function enc(v: unknown, path: string): unknown {
  if (typeof v === 'bigint') return { $n: v < 0n ? '-' + (-v).toString(16) : v.toString(16) };
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('base64') };
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new InvalidArgs(path, 'non-finite number');
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => enc(x, `${path}[${i}]`));
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) out[k] = enc(x, `${path}.${k}`);
    }
    return out;
  }
  throw new InvalidArgs(path, 'is not plain data');
}

function dec(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => dec(x, `${path}[${i}]`));
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.$n === 'string') {
      if (!/^-?[0-9a-f]+$/.test(o.$n)) throw new DecodeError(path, 'bad bigint');
      return o.$n.startsWith('-') ? -BigInt('0x' + o.$n.slice(1)) : BigInt('0x' + o.$n);
    }
    if (keys.length === 1 && typeof o.$b === 'string')
      return new Uint8Array(Buffer.from(o.$b, 'base64'));
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = dec(o[k], `${path}.${k}`);
    return out;
  }
  return v;
}

/** Plain data → UTF-8 JSON bytes. @throws InvalidArgs naming the first non-plain value */
export function serializeState(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(enc(value, 'state')));
}

/** UTF-8 JSON bytes → plain data. @throws DecodeError on malformed input */
export function deserializeState<T>(bytes: Uint8Array): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new DecodeError('state', 'not valid UTF-8 JSON');
  }
  return dec(parsed, 'state') as T;
}
