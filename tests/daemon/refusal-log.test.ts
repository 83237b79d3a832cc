/**
 * The allow-list refusal log: first refusal of a peer at once, then at most one line per peer per
 * interval carrying the count it stands for; the table of peers stays bounded.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { refusalLogger } from '../../daemon/p2p/refusal-log.js';
import type { Logger } from '../../daemon/log.js';

async function peers(n: number): Promise<PeerId[]> {
  return Promise.all(
    Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  );
}

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = {
    warn: (obj: Record<string, unknown>, msg: string) => lines.push({ ...obj, msg }),
  } as unknown as Logger;
  return { log, lines };
}

describe('refusalLogger', () => {
  it('logs the first refusal, then one line per interval with the count suppressed', async () => {
    const [p] = await peers(1);
    const { log, lines } = capture();
    let t = 1_000;
    const onDenied = refusalLogger(log, 'refused', { intervalMs: 60_000, now: () => t });
    onDenied(p!, 'dial');
    for (let i = 0; i < 59; i++) {
      t += 1_000;
      onDenied(p!, 'inbound-encrypted');
    }
    expect(lines).toEqual([{ peer: p!.toString(), where: 'dial', msg: 'refused' }]);
    t += 1_000; // 60 s after the first line
    onDenied(p!, 'inbound-encrypted');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual({
      peer: p!.toString(),
      where: 'inbound-encrypted',
      alsoRefused: 59,
      sinceMs: 60_000,
      msg: 'refused',
    });
  });

  it('keeps peers apart, and forgets the least recently logged beyond maxPeers', async () => {
    const [a, b, c] = await peers(3);
    const { log, lines } = capture();
    const onDenied = refusalLogger(log, 'refused', { maxPeers: 2, now: () => 5 });
    onDenied(a!, 'dial');
    onDenied(b!, 'dial');
    onDenied(a!, 'dial'); // suppressed
    expect(lines.map((l) => l.peer)).toEqual([a!.toString(), b!.toString()]);
    onDenied(c!, 'dial'); // table full: a (logged first) is forgotten
    onDenied(a!, 'dial'); // so a is logged again at once
    expect(lines.map((l) => l.peer)).toEqual([
      a!.toString(),
      b!.toString(),
      c!.toString(),
      a!.toString(),
    ]);
  });
});
