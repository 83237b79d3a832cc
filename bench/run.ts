/**
 * `npm run bench [-- --quick] [-- only=<name>,…]`: prints one JSON line per figure.
 * Benchmarks: modexp, paillier, proofs, peer-verify, protocols, keystore, daemon (three real mpcd
 * processes on loopback; minutes long, `only=daemon` runs it alone), coordinator (a devnet of a
 * coordinator and three daemons driven through the API and the `mpc` CLI; `only=coordinator`).
 */
import '../protocol/params.js';
import { benchCoordinator } from './coordinator.js';
import { benchDaemon } from './daemon.js';
import { benchKeystore } from './keystore.js';
import { benchModexp } from './modexp.js';
import { benchPaillier } from './paillier.js';
import { benchPeerVerify, benchProofs } from './proofs.js';
import { benchProtocols } from './protocols.js';
import { note } from './harness.js';

const all: Record<string, () => void | Promise<void>> = {
  modexp: benchModexp,
  paillier: benchPaillier,
  proofs: benchProofs,
  'peer-verify': benchPeerVerify,
  protocols: benchProtocols,
  keystore: benchKeystore,
  daemon: benchDaemon,
  coordinator: benchCoordinator,
};

const only = process.argv
  .find((a) => a.startsWith('only='))
  ?.slice(5)
  .split(',');
for (const name of only ?? Object.keys(all)) {
  const fn = all[name];
  if (!fn) {
    process.stderr.write(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}\n`);
    process.exit(2);
  }
  const started = performance.now();
  await fn();
  note(`${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
