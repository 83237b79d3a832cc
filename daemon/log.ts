/**
 * Structured logging for every long-running mpcd process (party daemon, coordinator): pino JSON
 * lines with ISO timestamps, one child logger per component, and secrets redacted by
 * construction (ARCHITECTURE.md "Observability and operations"; STYLE.md habit 13).
 *
 * Two defences keep key material out of the log, because a log line is copied to places
 * (terminals, log shippers, bug reports) that the keystore's encryption does not reach:
 * - **redaction by key name**: any property named like a secret ({@link REDACTED_KEYS}) at the top
 *   level of a log object or one level down is replaced by `'[redacted]'`, whatever its value;
 * - **a whitelist error serializer**: an error logged under `err` or `error` keeps only `name`,
 *   `message`, `code`, `stack` (and the same fields of its `cause`), never other enumerable
 *   properties — an error thrown deep in a protocol may carry the state it failed on.
 *
 * The default destination writes synchronously to stdout: an ops log must not lose its last lines
 * (the reason a process exits) to an async buffer. Nothing here names the daemon, so the
 * coordinator reuses the module as is.
 * @module
 */
import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

export type { Logger };

/** The log levels a process can be configured with, most to least severe. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Every {@link LogLevel}, for config validation and `--log-level` help text. */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
]);

/**
 * Property names whose values are never logged. Short paper symbols are included on purpose:
 * `x` is a key share xᵢ, `p`/`q` the Paillier primes, `lambda` λ = φ(N) — all secret in CGGMP21.
 * The cost is that an innocent `x` coordinate is redacted too; that is the safe direction.
 */
export const REDACTED_KEYS: readonly string[] = Object.freeze([
  'secret',
  'secretKey',
  'privateKey',
  'password',
  'passphrase',
  'token',
  'joinToken',
  'masterKey',
  'share',
  'x',
  'p',
  'q',
  'lambda',
  'authorization',
]);

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** pino `redact` paths: each key at the top level (`token`) and one level down (`*.token`). */
const REDACT_PATHS: string[] = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`]);

/** How many `cause` links the error serializer follows (a cycle must not loop). */
const MAX_CAUSE_DEPTH = 3;

/** An error as it appears in a log line. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: SerializedError;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Least severe level written; `'silent'` writes nothing. */
  level: LogLevel;
  /** Process name written on every line as `name` (e.g. `mpcd`, `mpc-coordinator`). */
  name: string;
  /** Where lines go; defaults to a synchronous writer on stdout (fd 1). Tests pass a memory sink. */
  destination?: DestinationStream;
}

/**
 * Whether `value` is one of the {@link LOG_LEVELS}.
 * @example isLogLevel('debug') // true
 */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Reduce an error to `name`, `message`, `code`, `stack` and (recursively) `cause`. Any other
 * property is dropped. A thrown non-error keeps only its type, unless it is a string (then it is
 * the message, as `throw 'msg'` intends).
 * @param err - whatever was thrown
 * @returns a plain object safe to log
 * @example serializeError(Object.assign(new Error('boom'), { share: 7n })) // { name, message, stack }
 */
export function serializeError(err: unknown): SerializedError {
  return serialize(err, 0);
}

function serialize(err: unknown, depth: number): SerializedError {
  if (typeof err === 'string') return { name: 'NonError', message: err };
  if (typeof err !== 'object' || err === null) {
    return { name: 'NonError', message: `thrown value of type ${typeof err}` };
  }
  // Duck-typed rather than `instanceof Error`: errors from a worker or vm context are other realms.
  const e = err as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown };
  const out: SerializedError = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
  };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  if (typeof e.stack === 'string') out.stack = e.stack;
  if (depth < MAX_CAUSE_DEPTH && 'cause' in err && err.cause !== undefined) {
    out.cause = serialize(err.cause, depth + 1);
  }
  return out;
}

/**
 * Create the root logger of a process.
 * @param opts - level, process name, optional destination
 * @returns a pino logger writing JSON lines `{level, time, name, pid, msg, ...}`
 * @throws TypeError when `level` is not a {@link LogLevel} or `name` is empty
 * @example
 * const log = createLogger({ level: 'info', name: 'mpcd' });
 * component(log, 'keystore').info({ kind: 'share' }, 'record written');
 */
export function createLogger(opts: LoggerOptions): Logger {
  if (!isLogLevel(opts.level)) {
    throw new TypeError(
      `log level: expected one of ${LOG_LEVELS.join(', ')}, got ${describe(opts.level)}`
    );
  }
  if (typeof opts.name !== 'string' || opts.name.length === 0) {
    throw new TypeError('log name: expected a non-empty string');
  }
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: opts.level,
      base: { name: opts.name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      // `err` is also where pino puts an error passed as the first argument (`log.error(e)`).
      serializers: { err: serializeError, error: serializeError },
    },
    destination
  );
}

/**
 * A child logger whose lines carry `component: name` (one per module or service).
 * @param log - parent logger
 * @param name - component name, e.g. `'keystore'`, `'admin-http'`
 * @returns the child logger
 * @example const log = component(root, 'sessions');
 */
export function component(log: Logger, name: string): Logger {
  return log.child({ component: name });
}

/** A short shape description of a bad input, without echoing long (possibly secret) values. */
function describe(value: unknown): string {
  if (typeof value === 'string')
    return value.length <= 16 ? JSON.stringify(value) : 'a long string';
  return value === null ? 'null' : typeof value;
}
