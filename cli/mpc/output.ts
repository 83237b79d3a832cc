/**
 * How `mpc` commands print (issue 6: "`--json` for scripts").
 *
 * - Without `--json`: human text on stdout; errors on stderr as `mpc: <message>`.
 * - With `--json`: exactly one JSON object per command on stdout — the result, or
 *   `{"error":{"code","message"}}` — so a script can always parse stdout; the exit code says the
 *   same thing ({@link ./exit-codes.ts}).
 *
 * Commands never write to the process streams themselves; they hand a result to {@link Output}.
 * @module
 */
import { CliError, EXIT_CODE_NAMES, type ExitCodeName } from './exit-codes.js';

/** Where output goes (the process streams by default; tests may pass their own). */
export interface OutputStreams {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** An error as `--json` prints it. */
export interface JsonError {
  readonly error: { readonly code: ExitCodeName; readonly message: string };
}

/**
 * Normalise anything thrown into a {@link CliError}: a `CliError` stays as is; anything else is a
 * failure we did not foresee, reported with its message (exit FAILURE).
 */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CliError('FAILURE', message);
}

/**
 * The printer for one command run.
 * @example
 * const out = new Output(opts.json === true);
 * out.result({ valid: true }, 'valid');
 */
export class Output {
  /** True when `--json` was given. */
  readonly json: boolean;
  private readonly streams: OutputStreams;

  constructor(json: boolean, streams: OutputStreams = process) {
    this.json = json;
    this.streams = streams;
  }

  /**
   * Print a command's result: `value` as one JSON line with `--json`, else `human`.
   * @param value - the JSON object (plain data only: strings, numbers, booleans, arrays, objects)
   * @param human - the text for people; a final newline is added when missing
   */
  result(value: object, human: string): void {
    if (this.json) this.streams.stdout.write(JSON.stringify(value) + '\n');
    else this.streams.stdout.write(human.endsWith('\n') ? human : human + '\n');
  }

  /**
   * Print an error and return the exit code to end with.
   * @param err - anything thrown; see {@link toCliError}
   * @param hint - a line added to the human form only (e.g. where to find usage)
   * @returns the numeric exit code
   */
  error(err: unknown, hint?: string): number {
    const e = toCliError(err);
    if (this.json) {
      const body: JsonError = { error: { code: e.code, message: e.message } };
      this.streams.stdout.write(JSON.stringify(body) + '\n');
    } else {
      this.streams.stderr.write(`mpc: ${e.message}\n${hint ? hint + '\n' : ''}`);
    }
    return EXIT_CODE_NAMES[e.code];
  }
}

/**
 * Run one command body and set the process exit code from it: the body's return value, or the
 * error's code (printed through {@link Output.error}). Never calls `process.exit`, so piped stdout
 * is flushed before the process ends.
 * @param json - `--json` was given
 * @param body - prints its result through the given {@link Output} and returns the exit code
 * @example
 * await runCommand(opts.json === true, (out) => { out.result({ ok: true }, 'ok'); return OK; });
 */
export async function runCommand(
  json: boolean,
  body: (out: Output) => number | Promise<number>
): Promise<void> {
  const out = new Output(json);
  try {
    process.exitCode = await body(out);
  } catch (err) {
    process.exitCode = out.error(err);
  }
}
