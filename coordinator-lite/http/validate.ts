/**
 * A tiny schema-less validator for JSON request bodies (issue 6: "request bodies validated with
 * errors that name the field"). A route reads each field it accepts through a typed getter and
 * ends with {@link BodyReader.done}, which refuses every field it did not read:
 *
 * ```ts
 * const b = readBody(ctx.body);
 * const threshold = b.int('threshold', { min: 1, max: 16 });
 * const parties = b.stringArray('parties', { min: 2, max: 16, unique: true });
 * const label = b.string('label', { max: 64, optional: true });
 * b.done(); // 400 "unknown field: colour" if the client sent one
 * ```
 *
 * Refusing unknown fields (rather than ignoring them) turns a client's typo — `treshold` — into a
 * clear 400 instead of a silently applied default. Every failure is a 400 {@link ApiError} whose
 * `field` is the path (`parties[2]`, `options.hashing`); messages describe the expected shape and
 * what was received (a type, a length), never the value itself, which could be a secret.
 * @module
 */
import { badRequest } from './errors.js';

/** Options shared by every getter. */
export interface Optional {
  /** Allow the field to be absent (then the getter returns `undefined`). `null` is never allowed. */
  optional?: boolean;
}

/** Options of {@link BodyReader.string}. */
export interface StringRule extends Optional {
  /** Minimum length in UTF-16 code units (default 0). */
  min?: number;
  /** Maximum length (default 1024: no field of this API needs more). */
  max?: number;
  /** A pattern the whole string must match; say what it means in `patternHint`. */
  pattern?: RegExp;
  /** Human description used when `pattern` fails, e.g. `'lower-case letters and digits'`. */
  patternHint?: string;
}

/** Options of {@link BodyReader.int}. */
export interface IntRule extends Optional {
  min?: number;
  max?: number;
}

/** Options of {@link BodyReader.hex}. */
export interface HexRule extends Optional {
  /** Exact decoded length in bytes. */
  bytes: number;
}

/** Options of {@link BodyReader.stringArray}. */
export interface StringArrayRule extends Optional {
  /** Minimum number of items (default 0). */
  min?: number;
  /** Maximum number of items (default 256). */
  max?: number;
  /** Refuse repeated items, naming the second occurrence. */
  unique?: boolean;
  /** Rule every item must satisfy (default: a non-empty string of at most 1024 characters). */
  item?: Omit<StringRule, 'optional'>;
}

type Out<T, O extends Optional> = O extends { optional: true } ? T | undefined : T;

const DEFAULT_STRING_MAX = 1024;
const DEFAULT_ARRAY_MAX = 256;

/**
 * Reads typed fields from a parsed JSON object, remembering which were read. Create it with
 * {@link readBody}.
 */
export class BodyReader {
  private readonly seen = new Set<string>();

  /**
   * @param obj - the parsed JSON object
   * @param prefix - path prefix for field names in errors (`''` at the top level)
   */
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly prefix = ''
  ) {}

  /**
   * A string field.
   * @example b.string('label', { max: 64, optional: true })
   * @throws ApiError 400 when absent (and not optional), not a string, too short/long, or not
   *   matching `pattern`
   */
  string<O extends StringRule>(name: string, rule?: O): Out<string, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<string, O>;
    return checkString(this.path(name), v, rule ?? {}) as Out<string, O>;
  }

  /**
   * An integer field (a JSON number with no fractional part, within the safe integer range).
   * @example b.int('threshold', { min: 1, max: 16 })
   */
  int<O extends IntRule>(name: string, rule?: O): Out<number, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<number, O>;
    const path = this.path(name);
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw badRequest(path, `must be an integer (got ${describe(v)})`);
    }
    const { min, max } = rule ?? {};
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      throw badRequest(path, `must be an integer in ${range(min, max)} (got ${v})`);
    }
    return v as Out<number, O>;
  }

  /**
   * A byte string written as hex, with or without a `0x` prefix, either case.
   * @returns the decoded bytes
   * @example b.hex('digest', { bytes: 32 }) // "digest: must be 32 bytes of hex (got 31)"
   */
  hex<O extends HexRule>(name: string, rule: O): Out<Uint8Array, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<Uint8Array, O>;
    const path = this.path(name);
    const want = `must be ${rule.bytes} bytes of hex`;
    if (typeof v !== 'string') throw badRequest(path, `${want} (got ${describe(v)})`);
    const digits = v.startsWith('0x') || v.startsWith('0X') ? v.slice(2) : v;
    if (!/^[0-9a-fA-F]*$/.test(digits)) {
      throw badRequest(path, `${want} (got a non-hex character)`);
    }
    if (digits.length % 2 !== 0) {
      throw badRequest(path, `${want} (got an odd number of hex digits: ${digits.length})`);
    }
    if (digits.length / 2 !== rule.bytes) {
      throw badRequest(path, `${want} (got ${digits.length / 2})`);
    }
    return Uint8Array.from(Buffer.from(digits, 'hex')) as Out<Uint8Array, O>;
  }

  /**
   * A string from a fixed set.
   * @example b.enum('hashing', ['none', 'eth-personal'] as const)
   */
  enum<const T extends string, O extends Optional = Optional>(
    name: string,
    values: readonly T[],
    rule?: O
  ): Out<T, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<T, O>;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      const got = typeof v === 'string' ? 'another string' : describe(v);
      throw badRequest(this.path(name), `must be one of ${values.join(', ')} (got ${got})`);
    }
    return v as Out<T, O>;
  }

  /**
   * An array of strings.
   * @example b.stringArray('parties', { min: 2, max: 16, unique: true })
   */
  stringArray<O extends StringArrayRule>(name: string, rule?: O): Out<string[], O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<string[], O>;
    const path = this.path(name);
    if (!Array.isArray(v)) throw badRequest(path, `must be an array (got ${describe(v)})`);
    const min = rule?.min ?? 0;
    const max = rule?.max ?? DEFAULT_ARRAY_MAX;
    if (v.length < min || v.length > max) {
      throw badRequest(path, `must have ${range(min, max)} items (got ${v.length})`);
    }
    const item = { min: 1, ...rule?.item };
    const out: string[] = [];
    const seen = new Set<string>();
    v.forEach((x: unknown, i) => {
      const s = checkString(`${path}[${i}]`, x, item);
      if (rule?.unique && seen.has(s)) throw badRequest(`${path}[${i}]`, 'is a duplicate');
      seen.add(s);
      out.push(s);
    });
    return out as Out<string[], O>;
  }

  /**
   * A boolean field.
   * @example b.bool('dryRun', { optional: true })
   */
  bool<O extends Optional>(name: string, rule?: O): Out<boolean, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<boolean, O>;
    if (typeof v !== 'boolean') {
      throw badRequest(this.path(name), `must be true or false (got ${describe(v)})`);
    }
    return v as Out<boolean, O>;
  }

  /**
   * A nested object, read with its own reader (call `done()` on it too).
   * @example const o = b.object('options'); const h = o.enum('hashing', [...]); o.done();
   */
  object<O extends Optional>(name: string, rule?: O): Out<BodyReader, O> {
    const v = this.take(name, rule);
    if (v === undefined) return undefined as Out<BodyReader, O>;
    const path = this.path(name);
    if (!isPlainObject(v)) throw badRequest(path, `must be an object (got ${describe(v)})`);
    return new BodyReader(v, `${path}.`) as Out<BodyReader, O>;
  }

  /**
   * Refuse every field that no getter read.
   * @throws ApiError 400 naming the first unknown field (and how many there are)
   */
  done(): void {
    const unknown = Object.keys(this.obj).filter((k) => !this.seen.has(k));
    if (unknown.length === 0) return;
    const first = this.path(unknown[0]!);
    const more = unknown.length > 1 ? ` (and ${unknown.length - 1} more)` : '';
    throw badRequest(first, `unknown field${more}`);
  }

  private path(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** The raw value, or `undefined` for an absent optional field; marks the field as read. */
  private take(name: string, rule: Optional | undefined): unknown {
    this.seen.add(name);
    const present = Object.hasOwn(this.obj, name);
    const v = present ? this.obj[name] : undefined;
    if (v === undefined) {
      if (rule?.optional) return undefined;
      throw badRequest(this.path(name), 'is required');
    }
    if (v === null) throw badRequest(this.path(name), 'must not be null');
    return v;
  }
}

/**
 * Start reading a request body, which must be a JSON object.
 * @param body - the parsed body (`ctx.body`); `undefined` when the request had none
 * @returns a {@link BodyReader}
 * @throws ApiError 400 with field `body` when the body is missing or not an object
 * @example const b = readBody(ctx.body);
 */
export function readBody(body: unknown): BodyReader {
  if (body === undefined) throw badRequest('body', 'a JSON object is required');
  if (!isPlainObject(body))
    throw badRequest('body', `must be a JSON object (got ${describe(body)})`);
  return new BodyReader(body);
}

function checkString(path: string, v: unknown, rule: Omit<StringRule, 'optional'>): string {
  if (typeof v !== 'string') throw badRequest(path, `must be a string (got ${describe(v)})`);
  const min = rule.min ?? 0;
  const max = rule.max ?? DEFAULT_STRING_MAX;
  if (v.length < min || v.length > max) {
    throw badRequest(path, `must be ${range(min, max)} characters long (got ${v.length})`);
  }
  if (rule.pattern && !rule.pattern.test(v)) {
    throw badRequest(path, `must be ${rule.patternHint ?? `matching ${String(rule.pattern)}`}`);
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The JSON type of a value, for messages (never the value itself). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return 'an integer';
    return Number.isInteger(v) ? 'an integer beyond 2^53' : 'a fractional number';
  }
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return 'any';
}
