/**
 * Exit codes of the `mpc` CLI and the one error class its commands throw.
 *
 * Issue 6 ("mpc CLI") asks for exit codes that let a script tell a usage error from an auth error, a
 * failed session and a timeout without parsing text. The numbers are part of the CLI's interface:
 * they are printed by `mpc --help` ({@link EXIT_CODES_HELP}) and must not be renumbered.
 * @module
 */

/** Done: the command did what was asked (for `verify`: the signature is valid). */
export const OK = 0;
/** The command ran and the answer is "no" (a signature that does not verify), or it failed. */
export const FAILURE = 1;
/** Bad flags or arguments (commander's own errors included), or a bad config value. */
export const USAGE = 2;
/** The coordinator refused our credentials (missing, expired or revoked token). */
export const AUTH = 3;
/** A keygen or signing session ended failed. */
export const SESSION_FAILED = 4;
/** A wait (a session, a request) ran out of time. */
export const TIMEOUT = 5;
/** The coordinator cannot be reached. */
export const UNAVAILABLE = 6;

/** The symbolic name of each exit code; `--json` errors carry it as `error.code`. */
export const EXIT_CODE_NAMES = {
  OK,
  FAILURE,
  USAGE,
  AUTH,
  SESSION_FAILED,
  TIMEOUT,
  UNAVAILABLE,
} as const;

/** One of the names in {@link EXIT_CODE_NAMES}. */
export type ExitCodeName = keyof typeof EXIT_CODE_NAMES;

/** The exit-code table as `--help` prints it. */
export const EXIT_CODES_HELP = `Exit codes:
  ${OK}  OK              done (verify: the signature is valid)
  ${FAILURE}  FAILURE         the answer is no (verify: INVALID) or the command failed
  ${USAGE}  USAGE           bad flags, arguments or configuration
  ${AUTH}  AUTH            the coordinator refused the credentials
  ${SESSION_FAILED}  SESSION_FAILED  a keygen or signing session failed
  ${TIMEOUT}  TIMEOUT         a wait ran out of time
  ${UNAVAILABLE}  UNAVAILABLE     the coordinator cannot be reached`;

/**
 * An error that ends an `mpc` command with a given exit code. The message is shown to the user
 * as is, so it names the flag or file at fault and never contains a secret (a token, a key).
 * @example
 * throw new CliError('USAGE', '--digest must be 32 bytes; got 31');
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** The symbolic exit code, e.g. `USAGE`. */
  readonly code: ExitCodeName;

  constructor(code: ExitCodeName, message: string) {
    super(message);
    this.code = code;
  }

  /** The numeric process exit code. */
  get exitCode(): number {
    return EXIT_CODE_NAMES[this.code];
  }
}

/**
 * A usage error about one flag: the message starts with the flag's name.
 * @example
 * usageError('--address', 'bad EIP-55 checksum') // CliError USAGE "--address: bad EIP-55 checksum"
 */
export function usageError(flag: string, message: string): CliError {
  return new CliError('USAGE', `${flag}: ${message}`);
}
