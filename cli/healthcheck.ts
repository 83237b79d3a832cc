#!/usr/bin/env node
/**
 * `mpc-healthcheck [url]`: the container image's HEALTHCHECK (the slim image has no curl). Exits 0
 * when `GET url` answers 200 within 3 s, 1 when it does not, 2 when the URL itself is bad; one
 * line on stderr says why.
 *
 * The URL comes from the argument, else `MPC_HEALTHCHECK_URL`, else the daemon's default admin
 * endpoint `http://127.0.0.1:7180/healthz` (the coordinator's service sets the variable to its own
 * `/healthz`). Only http(s) URLs are accepted: the value is operator config, but a typo should
 * fail loudly rather than probe something else.
 * @module
 */
const DEFAULT_URL = 'http://127.0.0.1:7180/healthz';
const TIMEOUT_MS = 3_000;

async function main(): Promise<number> {
  const raw = process.argv[2] ?? process.env.MPC_HEALTHCHECK_URL ?? DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    process.stderr.write(`mpc-healthcheck: not a URL: ${JSON.stringify(raw)}\n`);
    return 2;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    process.stderr.write(`mpc-healthcheck: not an http(s) URL: ${url.href}\n`);
    return 2;
  }
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await r.body?.cancel();
    if (r.status === 200) return 0;
    process.stderr.write(`mpc-healthcheck: ${url.href} answered ${r.status}\n`);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    process.stderr.write(`mpc-healthcheck: ${url.href}: ${e.cause?.code ?? e.message}\n`);
  }
  return 1;
}

process.exitCode = await main();
