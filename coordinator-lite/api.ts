/**
 * The coordinator's `/v1` routes (issue 6): accounts and tokens, the node registry, key generation
 * and signing sessions, session status and its event stream. Bodies are validated field by field
 * (`http/validate.ts`); every refusal is a 4xx naming the field; an account sees only its own keys
 * and sessions (another account's id answers 404, never 403, so ids are no existence oracle).
 * @module
 */
import type { Accounts, Account } from './accounts.js';
import { AccountError } from './accounts.js';
import { ApiError, badRequest, forbidden, notFound } from './http/errors.js';
import {
  idempotent,
  type IdempotencyStore,
  type RequestContext,
  type Route,
} from './http/server.js';
import { startSse } from './http/sse.js';
import { readBody } from './http/validate.js';
import type { NodeRegistry } from './registry.js';
import { RegistryError } from './registry.js';
import type { KeyRecord, SessionEvent, SessionRecord, SessionService } from './sessions.js';
import type { Store } from './store.js';
import { digestOf } from '../daemon/session/invitation.js';
import type { HashingMode } from '../protocol/control/messages.js';

type Ctx = RequestContext<Account>;

export interface ApiDeps {
  readonly accounts: Accounts;
  readonly registry: NodeRegistry;
  readonly sessions: SessionService;
  readonly store: Store;
  /** Subscribe to session events (returns the unsubscribe function). */
  readonly subscribe: (fn: (e: SessionEvent) => void) => () => void;
  /** Invite → start lifetime of keygen sessions (primes may be generated on demand). */
  readonly keygenJoinMs: number;
  readonly signJoinMs: number;
}

/** A session as the API shows it (no token hashes, no nonce). */
export function sessionView(r: SessionRecord) {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    expiresAt: new Date(r.expiresAt).toISOString(),
    participants: r.participants,
    joined: r.joined.length,
    ready: r.ready.length,
    reported: Object.keys(r.reports).length,
    ...(r.kind === 'sign' && r.params.kind === 'sign'
      ? { keyId: r.params.keyId, digest: r.params.digest }
      : {}),
    ...(r.label ? { label: r.label } : {}),
    ...(r.result ? { result: r.result } : {}),
    ...(r.failure ? { failure: r.failure } : {}),
  };
}

function accountErr(err: unknown): never {
  if (err instanceof AccountError) {
    const status = {
      INVALID: 400,
      CONFLICT: 409,
      NOT_FOUND: 404,
      UNAUTHENTICATED: 401,
      FORBIDDEN: 403,
      SETUP_USED: 409,
    }[err.code];
    throw new ApiError(status, err.code.toLowerCase().replace(/_/g, '-'), err.message, err.field);
  }
  throw err;
}

function registryErr(err: unknown): never {
  if (err instanceof RegistryError) {
    const status = { INVALID: 400, CONFLICT: 409, NOT_FOUND: 404, UNAVAILABLE: 409 }[err.code];
    throw new ApiError(status, err.code.toLowerCase().replace(/_/g, '-'), err.message, err.field);
  }
  throw err;
}

const TERMINAL = new Set(['completed', 'failed', 'expired']);

/** The route table. */
export function apiRoutes(d: ApiDeps): Route<Account>[] {
  const idem: IdempotencyStore = {
    get: (k) => d.store.get('idempotency', k),
    put: (k, v) => d.store.put('idempotency', k, v),
  };
  const admin = (ctx: Ctx): Account => {
    if (!ctx.principal!.admin) throw forbidden();
    return ctx.principal!;
  };
  const ownSession = async (ctx: Ctx): Promise<SessionRecord> => {
    const r = await d.sessions.get(ctx.params.id!);
    if (!r || r.accountId !== ctx.principal!.id) throw notFound('session');
    return r;
  };
  const ownKey = async (ctx: Ctx): Promise<KeyRecord> => {
    const k = /^[0-9a-f]{32}$/.test(ctx.params.id!)
      ? await d.sessions.key(ctx.principal!.id, ctx.params.id!)
      : undefined;
    if (!k) throw notFound('key');
    return k;
  };

  return [
    {
      method: 'POST',
      path: '/v1/setup',
      auth: false,
      handler: async (ctx) => {
        const b = readBody(ctx.body);
        const setupToken = b.string('setupToken', { max: 256 });
        const name = b.string('name', { max: 64 });
        const password = b.string('password', { optional: true, min: 12, max: 1024 });
        b.done();
        const r = await d.accounts
          .bootstrap(setupToken, { name, ...(password ? { password } : {}) })
          .catch(accountErr);
        ctx.reply(201, r);
      },
    },
    {
      method: 'POST',
      path: '/v1/login',
      auth: false,
      handler: async (ctx) => {
        const b = readBody(ctx.body);
        const name = b.string('name', { max: 64 });
        const password = b.string('password', { max: 1024 });
        b.done();
        ctx.reply(200, await d.accounts.login(name, password).catch(accountErr));
      },
    },
    {
      method: 'POST',
      path: '/v1/accounts/recover',
      auth: false,
      handler: async (ctx) => {
        const b = readBody(ctx.body);
        const name = b.string('name', { max: 64 });
        const code = b.string('recoveryCode', { max: 64 });
        const password = b.string('newPassword', { min: 12, max: 1024 });
        b.done();
        ctx.reply(200, await d.accounts.recover(name, code, password).catch(accountErr));
      },
    },
    {
      method: 'POST',
      path: '/v1/accounts',
      auth: true,
      handler: async (ctx) => {
        const by = admin(ctx);
        const b = readBody(ctx.body);
        const name = b.string('name', { max: 64 });
        const password = b.string('password', { optional: true, min: 12, max: 1024 });
        const isAdmin = b.bool('admin', { optional: true });
        b.done();
        const r = await d.accounts
          .create(by, {
            name,
            ...(password ? { password } : {}),
            ...(isAdmin ? { admin: true } : {}),
          })
          .catch(accountErr);
        ctx.reply(201, r);
      },
    },
    {
      method: 'GET',
      path: '/v1/account',
      auth: true,
      handler: (ctx) => ctx.reply(200, ctx.principal),
    },
    {
      method: 'GET',
      path: '/v1/tokens',
      auth: true,
      handler: async (ctx) =>
        ctx.reply(200, { tokens: await d.accounts.listTokens(ctx.principal!) }),
    },
    {
      method: 'POST',
      path: '/v1/tokens',
      auth: true,
      handler: async (ctx) => {
        const b = readBody(ctx.body);
        const label = b.string('label', { max: 64 });
        const ttlDays = b.int('ttlDays', { optional: true, min: 1, max: 3650 });
        b.done();
        const r = await d.accounts
          .createToken(ctx.principal!, { label, ...(ttlDays ? { ttlDays } : {}) })
          .catch(accountErr);
        ctx.reply(201, r);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/tokens/:id',
      auth: true,
      handler: async (ctx) => {
        await d.accounts.revokeToken(ctx.principal!, ctx.params.id!).catch(accountErr);
        ctx.reply(204);
      },
    },
    {
      method: 'GET',
      path: '/v1/nodes',
      auth: true,
      handler: (ctx) => ctx.reply(200, { nodes: d.registry.list() }),
    },
    {
      method: 'POST',
      path: '/v1/nodes',
      auth: true,
      handler: async (ctx) => {
        admin(ctx);
        const b = readBody(ctx.body);
        const peerId = b.string('peerId', { max: 128 });
        const name = b.string('name', { max: 64 });
        const addresses = b.stringArray('addresses', { optional: true, max: 8 });
        b.done();
        ctx.reply(
          201,
          await d.registry.add({ peerId, name, addresses: addresses ?? [] }).catch(registryErr)
        );
      },
    },
    {
      method: 'DELETE',
      path: '/v1/nodes/:id',
      auth: true,
      handler: async (ctx) => {
        admin(ctx);
        await d.registry.remove(ctx.params.id!).catch(registryErr);
        ctx.reply(204);
      },
    },
    {
      method: 'POST',
      path: '/v1/keys',
      auth: true,
      handler: async (ctx) => {
        const b = readBody(ctx.body);
        const threshold = b.int('threshold', { min: 2, max: 16 });
        const count = b.int('parties', { optional: true, min: 2, max: 16 });
        const names = b.stringArray('nodes', { optional: true, min: 2, max: 16, unique: true });
        const label = b.string('label', { optional: true, max: 128 });
        const level = b.enum('level', ['level128', 'level112'] as const, { optional: true });
        b.done();
        const n = names?.length ?? count;
        if (n === undefined) throw badRequest('parties', 'give parties (a count) or nodes (names)');
        if (count !== undefined && names && count !== names.length) {
          throw badRequest('parties', `is ${count} but ${names.length} nodes are named`);
        }
        if (threshold > n) throw badRequest('threshold', `must be at most parties (${n})`);
        await idempotent(ctx as RequestContext<unknown>, idem, ctx.principal!.id, async () => {
          const nodes = (() => {
            try {
              return d.registry.pick({ ...(names ? { names } : {}), count: n });
            } catch (err) {
              return registryErr(err);
            }
          })();
          const r = await d.sessions.create({
            accountId: ctx.principal!.id,
            participants: nodes.map((x) => x.peerId),
            params: { kind: 'keygen', threshold, level: level ?? 'level128' },
            joinMs: d.keygenJoinMs,
            ...(label ? { label } : {}),
          });
          return {
            status: 202,
            body: sessionView(r),
            headers: { Location: `/v1/sessions/${r.id}` },
          };
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/keys',
      auth: true,
      handler: async (ctx) => {
        const keys: KeyRecord[] = [];
        for await (const [, k] of d.store.list<KeyRecord>('results', { prefix: 'key:' })) {
          if (k.accountId === ctx.principal!.id) keys.push(k);
        }
        ctx.reply(200, { keys });
      },
    },
    {
      method: 'GET',
      path: '/v1/keys/:id',
      auth: true,
      handler: async (ctx) => ctx.reply(200, await ownKey(ctx)),
    },
    {
      method: 'POST',
      path: '/v1/keys/:id/signatures',
      auth: true,
      handler: async (ctx) => {
        const key = await ownKey(ctx);
        const b = readBody(ctx.body);
        const digestIn = b.hex('digest', { bytes: 32, optional: true });
        const message = b.string('message', { optional: true, min: 0, max: 65536 });
        const messageHex = b.string('messageHex', {
          optional: true,
          max: 131072,
          pattern: /^(0x)?([0-9a-fA-F]{2})*$/,
        });
        const hashing = b.enum('hashing', ['eth-personal', 'keccak256', 'sha256'] as const, {
          optional: true,
        });
        const names = b.stringArray('signers', { optional: true, min: 2, max: 16, unique: true });
        b.done();
        const given = [digestIn, message, messageHex].filter((x) => x !== undefined).length;
        if (given !== 1)
          throw badRequest('digest', 'give exactly one of digest, message or messageHex');
        if (digestIn && hashing)
          throw badRequest('hashing', 'applies to a message, not to a digest');
        const msg =
          message !== undefined
            ? Buffer.from(message, 'utf8')
            : messageHex !== undefined
              ? Buffer.from(messageHex.replace(/^0x/, ''), 'hex')
              : undefined;
        const mode: HashingMode = msg ? (hashing ?? 'eth-personal') : 'none';
        const digest = msg ? digestOf(mode as Exclude<HashingMode, 'none'>, msg) : digestIn!;
        await idempotent(ctx as RequestContext<unknown>, idem, ctx.principal!.id, async () => {
          let signers: string[];
          if (names) {
            signers = names.map((x) => {
              try {
                return d.registry.find(x).peerId;
              } catch (err) {
                return registryErr(err);
              }
            });
            const outside = signers.filter((p) => !key.participants.includes(p));
            if (outside.length > 0)
              throw badRequest('signers', `not a holder of this key: ${outside.join(', ')}`);
            if (signers.length !== key.threshold)
              throw badRequest('signers', `must name exactly ${key.threshold} nodes`);
          } else {
            const online = d.registry
              .list()
              .filter((x) => x.online && key.participants.includes(x.peerId));
            if (online.length < key.threshold) {
              throw new ApiError(
                409,
                'unavailable',
                `${key.threshold} key holders must be online, ${online.length} are`,
                'signers'
              );
            }
            signers = online.slice(0, key.threshold).map((x) => x.peerId);
          }
          const r = await d.sessions.create({
            accountId: ctx.principal!.id,
            participants: signers,
            params: {
              kind: 'sign',
              keyId: key.keyId,
              digest: Buffer.from(digest).toString('hex'),
              hashing: mode,
              ...(msg ? { message: msg.toString('hex') } : {}),
            },
            joinMs: d.signJoinMs,
          });
          return {
            status: 202,
            body: sessionView(r),
            headers: { Location: `/v1/sessions/${r.id}` },
          };
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/sessions/:id',
      auth: true,
      handler: async (ctx) => ctx.reply(200, sessionView(await ownSession(ctx))),
    },
    {
      method: 'GET',
      path: '/v1/sessions/:id/events',
      auth: true,
      handler: async (ctx) => {
        const first = await ownSession(ctx);
        // Declared before startSse: it may call onClose at once (the client already left).
        let stop = (): void => undefined;
        const sse = startSse(ctx as RequestContext<unknown>, { onClose: () => stop() });
        stop = d.subscribe((e) => {
          if (e.id !== first.id) return;
          void d.sessions.get(first.id).then((r) => {
            if (!r || sse.closed) return;
            sse.send('status', sessionView(r));
            if (TERMINAL.has(r.status)) sse.close();
          });
        });
        sse.send('status', sessionView(first));
        if (TERMINAL.has(first.status)) sse.close();
      },
    },
  ];
}
