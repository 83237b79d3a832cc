/**
 * The node registry: validation naming the field, uniqueness of peer ids and names, persistence,
 * the synchronous allow-list check, and choosing a session's participants by name or by count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeRegistry, RegistryError } from '../../coordinator-lite/registry.js';
import { Store } from '../../coordinator-lite/store.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(dir?: string): Promise<{ store: Store; dir: string }> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'mpc-registry-')));
  if (!dir) cleanups.push(() => rm(d, { recursive: true, force: true }));
  const s = await Store.open(d);
  cleanups.push(() => s.close());
  return { store: s, dir: d };
}

async function peer(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
}

async function refusal(p: Promise<unknown>): Promise<RegistryError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(RegistryError);
  return err as RegistryError;
}

describe('NodeRegistry', () => {
  it('registers, lists by name with online state, persists, and removes', async () => {
    const { store: s, dir } = await store();
    const online = new Set<string>();
    const reg = new NodeRegistry(s, (p) => online.has(p));
    const [a, b] = [await peer(), await peer()];
    await reg.add({ peerId: b, name: 'node-b', addresses: [`/ip4/10.0.0.2/tcp/7100/p2p/${b}`] });
    await reg.add({ peerId: a, name: 'node-a', addresses: ['/dns4/mpcd-a/tcp/7100'] });
    online.add(a);
    expect(reg.list().map((n) => [n.name, n.online])).toEqual([
      ['node-a', true],
      ['node-b', false],
    ]);
    expect(reg.has(a)).toBe(true);
    expect(reg.has(await peer())).toBe(false);
    await s.close();
    cleanups.pop();
    const removed: string[] = [];
    const again = new NodeRegistry(
      (await store(dir)).store,
      () => false,
      async (p) => void removed.push(p)
    );
    await again.load();
    expect(again.list().map((n) => n.name)).toEqual(['node-a', 'node-b']);
    await again.remove('node-a');
    expect(again.has(a)).toBe(false);
    expect(removed, 'the coordinator is told, to hang up an open connection').toEqual([a]);
    expect((await refusal(again.remove('node-a'))).code).toBe('NOT_FOUND');
  });

  it('refuses bad input naming the field, and duplicates as conflicts', async () => {
    const reg = new NodeRegistry((await store()).store);
    const a = await peer();
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ peerId: 'nope', name: 'x' }, 'peerId'],
      [{ peerId: secp, name: 'x' }, 'peerId'],
      [{ peerId: a, name: 'Upper' }, 'name'],
      [{ peerId: a, name: '' }, 'name'],
      [{ peerId: a, name: 'x', addresses: ['not a multiaddr'] }, 'addresses[0]'],
      [
        { peerId: a, name: 'x', addresses: [`/ip4/1.2.3.4/tcp/1/p2p/${await peer()}`] },
        'addresses[0]',
      ],
      [{ peerId: a, name: 'x', addresses: 'one' }, 'addresses'],
    ];
    for (const [input, field] of cases) {
      const err = await refusal(reg.add(input as never));
      expect([err.code, err.field]).toEqual(['INVALID', field]);
    }
    await reg.add({ peerId: a, name: 'x' });
    expect((await refusal(reg.add({ peerId: a, name: 'y' }))).field).toBe('peerId');
    expect((await refusal(reg.add({ peerId: await peer(), name: 'x' }))).field).toBe('name');
  });

  it('picks named online nodes, or the first online ones, and says who is missing', async () => {
    const online = new Set<string>();
    const reg = new NodeRegistry((await store()).store, (p) => online.has(p));
    const ids = [await peer(), await peer(), await peer()];
    for (const [i, id] of ids.entries()) await reg.add({ peerId: id, name: `n${i}` });
    online.add(ids[0]!).add(ids[2]!);
    expect(reg.pick({ count: 2 }).map((n) => n.name)).toEqual(['n0', 'n2']);
    const short = await refusal(Promise.resolve().then(() => reg.pick({ count: 3 })));
    expect([short.code, short.message]).toEqual(['UNAVAILABLE', '3 online nodes needed, 2 online']);
    const off = await refusal(
      Promise.resolve().then(() => reg.pick({ names: ['n0', 'n1'], count: 2 }))
    );
    expect([off.code, off.message]).toEqual(['UNAVAILABLE', 'offline: n1']);
    const unknown = await refusal(
      Promise.resolve().then(() => reg.pick({ names: ['n0', 'zz'], count: 2 }))
    );
    expect([unknown.code, unknown.message]).toEqual(['NOT_FOUND', 'no node zz']);
    const twice = await refusal(
      Promise.resolve().then(() => reg.pick({ names: ['n0', 'n0'], count: 2 }))
    );
    expect(twice.code).toBe('INVALID');
    expect(reg.pick({ names: ['n2', 'n0'], count: 2 }).map((n) => n.name)).toEqual(['n2', 'n0']);
  });
});
