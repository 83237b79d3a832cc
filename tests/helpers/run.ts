/**
 * Run one of our programs to completion as a child process, for the tests that drive the real
 * binaries: bounded (SIGKILL and a rejection after `timeoutMs`), output captured. From the
 * TypeScript sources through tsx, or — with MPCD_TEST_BIN / MPC_TEST_BIN set to a `dist/` path
 * after `npm run build` — the compiled JavaScript that production runs.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** `node` arguments that run `mpcd`. */
export const MPCD_ARGS = process.env.MPCD_TEST_BIN
  ? [join(REPO, process.env.MPCD_TEST_BIN)]
  : ['--import', 'tsx', join(REPO, 'cli/mpcd.ts')];
/** `node` arguments that run `mpc`. */
export const MPC_ARGS = process.env.MPC_TEST_BIN
  ? [join(REPO, process.env.MPC_TEST_BIN)]
  : ['--import', 'tsx', join(REPO, 'cli/mpc.ts')];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node <argv>` in the repository, to completion.
 * @param env merged over this process's environment; an `undefined` value unsets the variable
 */
export function runNode(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000
): Promise<Run> {
  const e: Record<string, string | undefined> = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...argv], {
      cwd: REPO,
      env: e,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
    // 'close', not 'exit': stdout may still hold data when the process has exited.
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `mpc <args>` without the caller's MPC_URL / MPC_TOKEN, unless `env` gives them. */
export function runMpc(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 30_000
): Promise<Run> {
  return runNode(
    [...MPC_ARGS, ...args],
    { MPC_URL: undefined, MPC_TOKEN: undefined, ...env },
    timeoutMs
  );
}
