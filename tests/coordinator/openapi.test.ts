/**
 * The OpenAPI document against the route table it describes: every route of `apiRoutes` (plus
 * `/healthz`, `/metrics` and the built-in `/v1/openapi.json`) is documented with its method and
 * auth requirement, and every request body schema matches what the handler's validator enforces —
 * the required fields are exactly those it reports missing, every documented field is accepted,
 * and an undocumented one is refused. A route or field added without documentation fails here.
 */
import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../../coordinator-lite/api.js';
import { ApiError } from '../../coordinator-lite/http/errors.js';
import { OPENAPI_PATH, type Route } from '../../coordinator-lite/http/server.js';
import { openApiDocument } from '../../coordinator-lite/openapi.js';
import type { Account } from '../../coordinator-lite/accounts.js';

type Json = Record<string, unknown>;
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  pattern?: string;
  enum?: string[];
  items?: Schema;
};

/** A key the fake session service knows, so the signatures route gets past its 404. */
const KEY_ID = 'ab'.repeat(16);

/** Dependencies: only a key lookup is real; any other use throws (the handler got past validation). */
const deps = {
  sessions: {
    key: async (_account: string, id: string) =>
      id === KEY_ID ? { keyId: KEY_ID, participants: [], threshold: 2 } : undefined,
  },
} as never;

const routes: Route<Account>[] = apiRoutes(deps);
const doc = openApiDocument() as Json;
const paths = doc.paths as Record<string, Record<string, Json>>;

/** `/v1/keys/:id` → `/v1/keys/{id}`. */
const toOpenApi = (path: string): string => path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

function op(route: { method: string; path: string }): Json {
  const o = paths[toOpenApi(route.path)]?.[route.method.toLowerCase()];
  if (!o) throw new Error(`${route.method} ${route.path} is not documented`);
  return o;
}

function bodySchema(o: Json): Schema {
  const rb = o.requestBody as { content: Record<string, { schema: Schema }> } | undefined;
  const s = rb?.content['application/json']?.schema;
  if (!s) throw new Error(`${String(o.summary)}: no JSON request body schema`);
  return s;
}

/** A smallest value that satisfies `s` (distinct items for unique arrays). */
function sample(s: Schema): unknown {
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'integer':
      return s.minimum ?? 0;
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: s.minItems ?? 1 }, (_, i) => `${String(sample(s.items!))}${i}`);
    case 'string': {
      const re = s.pattern ? new RegExp(s.pattern) : /./;
      const min = Math.max(s.minLength ?? 1, 1);
      const found = ['a'.repeat(min), '00'.repeat(32), '00'].find((c) => re.test(c));
      if (found === undefined) throw new Error(`no sample for pattern ${s.pattern}`);
      return found;
    }
    default:
      throw new Error(`no sample for schema type ${String(s.type)}`);
  }
}

/** Run a route's handler on `body` (as an admin, on the known key) and return what it threw. */
async function thrown(route: Route<Account>, body: Json): Promise<unknown> {
  const ctx = {
    method: route.method,
    path: route.path,
    params: { id: KEY_ID },
    headers: {},
    body,
    principal: { id: 'acct', name: 'admin', createdAt: '', admin: true, hasPassword: true },
    reply: () => {
      throw new Error('handler replied: the test expected it to stop earlier');
    },
  };
  try {
    await route.handler(ctx as never);
  } catch (err) {
    return err;
  }
  throw new Error(`${route.method} ${route.path}: handler returned without throwing`);
}

const isBadField = (err: unknown, field: string, text: string): boolean =>
  err instanceof ApiError &&
  err.status === 400 &&
  err.field === field &&
  err.message.includes(text);

const posts = routes.filter((r) => r.method === 'POST');

describe('openApiDocument', () => {
  it('is an OpenAPI 3.1.0 JSON document with info and a bearer scheme', () => {
    const again = JSON.parse(JSON.stringify(openApiDocument())) as Json;
    expect(again).toEqual(doc);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'mpcd coordinator-lite', version: '1' });
    const comps = doc.components as { securitySchemes: Json; schemas: Json };
    expect(comps.securitySchemes.bearer).toEqual(expect.objectContaining({ scheme: 'bearer' }));
    expect(comps.schemas.Error).toBeDefined();
  });

  it('documents exactly the served routes, with OpenAPI {id} paths', () => {
    const served = [
      ...routes.map((r) => `${r.method} ${toOpenApi(r.path)}`),
      'GET /healthz',
      'GET /metrics',
      `GET ${OPENAPI_PATH}`,
    ].sort();
    const documented = Object.entries(paths)
      .flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(served);
    expect(Object.keys(paths).some((p) => p.includes(':'))).toBe(false);
  });

  it('marks exactly the auth routes as needing the bearer token', () => {
    for (const r of routes) {
      const expected = r.auth ? [{ bearer: [] }] : [];
      expect(op(r).security, `${r.method} ${r.path}`).toEqual(expected);
      if (r.auth) expect(Object.keys(op(r).responses as Json)).toContain('401');
    }
    for (const p of ['/healthz', '/metrics', OPENAPI_PATH]) {
      expect(paths[p]!.get!.security, p).toEqual([]);
    }
  });

  it('declares every path parameter', () => {
    for (const r of routes.filter((x) => x.path.includes(':'))) {
      const params = op(r).parameters as Json[];
      expect(params, `${r.method} ${r.path}`).toContainEqual(
        expect.objectContaining({ name: 'id', in: 'path', required: true })
      );
    }
  });

  it('gives every response a schema and every error the shared Error body', () => {
    const responses = (doc.components as { responses: Record<string, Json> }).responses;
    for (const r of routes) {
      for (const [status, resp] of Object.entries(op(r).responses as Record<string, Json>)) {
        if (Number(status) >= 400) {
          const name = String(resp.$ref).replace('#/components/responses/', '');
          expect(responses[name], `${r.method} ${r.path} ${status}`).toMatchObject({
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          });
        } else if (status !== '204') {
          expect(resp.content, `${r.method} ${r.path} ${status}`).toBeDefined();
        }
      }
    }
  });

  it('takes Idempotency-Key on the two session-creating POSTs', () => {
    const withKey = Object.entries(paths).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([, o]) =>
          ((o.parameters as Json[] | undefined) ?? []).some(
            (x) => x.$ref === '#/components/parameters/IdempotencyKey'
          )
        )
        .map(([m]) => `${m.toUpperCase()} ${p}`)
    );
    expect(withKey.sort()).toEqual(['POST /v1/keys', 'POST /v1/keys/{id}/signatures']);
    const param = (doc.components as { parameters: Record<string, Json> }).parameters
      .IdempotencyKey;
    expect(param).toMatchObject({ name: 'Idempotency-Key', in: 'header' });
  });

  it('gives every POST a closed body schema whose required fields are its properties', () => {
    expect(posts.length).toBeGreaterThan(0);
    for (const r of posts) {
      const s = bodySchema(op(r));
      expect(s, `${r.path}`).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Array.isArray(s.required), `${r.path} required`).toBe(true);
      for (const f of s.required!) expect(Object.keys(s.properties!), r.path).toContain(f);
    }
  });

  it.each(posts.map((r) => [r.path, r] as const))(
    'POST %s: required fields are those the handler asks for, one by one',
    async (_path, r) => {
      const s = bodySchema(op(r));
      const asked: string[] = [];
      const body: Json = {};
      for (let i = 0; i <= Object.keys(s.properties!).length; i++) {
        const err = await thrown(r, body);
        if (!(err instanceof ApiError && err.status === 400 && / is required$/.test(err.message)))
          break;
        const field = err.field!;
        expect(Object.keys(s.properties!), `${field} is asked for but undocumented`).toContain(
          field
        );
        asked.push(field);
        body[field] = sample(s.properties![field]!);
      }
      expect(asked.sort()).toEqual([...s.required!].sort());
    }
  );

  it.each(posts.map((r) => [r.path, r] as const))(
    'POST %s: the handler reads exactly the documented fields and refuses any other',
    async (_path, r) => {
      const s = bodySchema(op(r));
      const full = Object.fromEntries(
        Object.entries(s.properties!).map(([k, v]) => [k, sample(v)])
      );
      // The validator probes each field it reads with `Object.hasOwn`: record which ones, until
      // `done()` lists the keys (Object.keys probes every key too, so stop there).
      const probed = new Set<string>();
      let listing = false;
      const watched = new Proxy(full, {
        getOwnPropertyDescriptor(target, key) {
          if (!listing && typeof key === 'string') probed.add(key);
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
        ownKeys(target) {
          listing = true;
          return Reflect.ownKeys(target);
        },
      });
      const err = await thrown(r, watched);
      expect([...probed].sort()).toEqual(Object.keys(s.properties!).sort());
      expect(err instanceof ApiError && /unknown field/.test(err.message), String(err)).toBe(false);
      const required = Object.fromEntries(s.required!.map((k) => [k, full[k]]));
      const extra = await thrown(r, { ...required, notDocumented: 1 });
      expect(isBadField(extra, 'notDocumented', 'unknown field'), String(extra)).toBe(true);
    }
  );
});
