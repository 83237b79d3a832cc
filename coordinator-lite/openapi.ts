/**
 * The OpenAPI 3.1 description of the coordinator-lite HTTP API, served without authentication at
 * `GET /v1/openapi.json` (`http/server.ts`, option `openapi`).
 *
 * The document is written by hand next to the code it describes, not generated from it: the body
 * rules here repeat those each route reads through `http/validate.ts` in `api.ts` (field names,
 * types, min/max, patterns, enums, and `additionalProperties: false` because `BodyReader.done()`
 * refuses every unknown field). `tests/coordinator/openapi.test.ts` keeps the two honest: every
 * route of `apiRoutes` must appear here with its method and auth requirement, and every field a
 * route reports as missing must be listed as `required`.
 *
 * Limits that come from `validate.ts` defaults are written out too (a string without an explicit
 * `max` is at most 1024 characters, an array item at least 1), so a client reading only this
 * document meets no undocumented 400.
 * @module
 */

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) or an OpenAPI object: plain JSON. */
type Json = Record<string, unknown>;

/** Default string limit of `validate.ts` (`DEFAULT_STRING_MAX`). */
const STRING_MAX = 1024;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const str = (extra: Json = {}): Json => ({ type: 'string', maxLength: STRING_MAX, ...extra });
const int = (minimum: number, maximum: number): Json => ({ type: 'integer', minimum, maximum });
const arr = (items: Json, extra: Json = {}): Json => ({ type: 'array', items, ...extra });
const dateTime: Json = { type: 'string', format: 'date-time' };

/** A closed object: what every request body is, since unknown fields are refused. */
function body(properties: Record<string, Json>, required: string[]): Json {
  return { type: 'object', properties, required, additionalProperties: false };
}

/** An object the server sends (open: clients should ignore fields added later). */
function obj(properties: Record<string, Json>, required: string[]): Json {
  return { type: 'object', properties, required };
}

/** What each error status means on this API; every one carries the shared `Error` body. */
const ERROR_TEXT: Record<number, string> = {
  400: 'A body field, path parameter or header is invalid; `error.field` names it.',
  401: 'A valid bearer token is required (`WWW-Authenticate: Bearer`).',
  403: 'Authenticated, but this account may not do this (admin only).',
  404: 'No such resource for this account.',
  409: 'Conflicts with the current state (taken name, used setup token, reused Idempotency-Key, too few nodes online).',
  413: 'The request body exceeds the limit (64 KiB).',
  415: 'The request body is not `application/json`.',
  500: 'Unexpected failure; details are in the server log under the request id.',
};

/** How one operation is described; turned into an OpenAPI Operation by {@link operation}. */
interface Op {
  summary: string;
  /** Bearer token required (`auth: true` in the route table). */
  auth: boolean;
  tag: string;
  body?: Json;
  /** The success status and its schema (`null`: no body, e.g. 204). */
  ok: [status: number, schema: Json | null, description: string];
  /** Extra error statuses beyond those implied by auth, body and path parameters. */
  errors?: number[];
  idempotent?: boolean;
  /** Success response sets `Location` to the new session. */
  location?: boolean;
  /** Success is a `text/event-stream` or other non-JSON media type. */
  media?: string;
}

function operation(path: string, op: Op): Json {
  const params: Json[] = [];
  for (const m of path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    params.push({ name: m[1], in: 'path', required: true, schema: { type: 'string' } });
  }
  if (op.idempotent) params.push({ $ref: '#/components/parameters/IdempotencyKey' });

  const [status, schema, description] = op.ok;
  const headers: Json = { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } };
  if (op.location) {
    headers.Location = {
      description: 'The new session, `/v1/sessions/{id}`.',
      schema: { type: 'string' },
    };
  }
  if (op.idempotent) headers['Idempotent-Replayed'] = { $ref: '#/components/headers/Replayed' };
  const success: Json = { description, headers };
  if (schema) success.content = { [op.media ?? 'application/json']: { schema } };

  const errors = new Set<number>([...(op.errors ?? []), 500]);
  if (op.auth) errors.add(401);
  if (op.body) [400, 413, 415].forEach((s) => errors.add(s));
  if (params.length > 0) errors.add(400);
  const responses: Json = { [String(status)]: success };
  for (const s of [...errors].sort((a, b) => a - b)) {
    responses[String(s)] = { $ref: `#/components/responses/E${s}` };
  }

  const out: Json = {
    summary: op.summary,
    tags: [op.tag],
    // `[]` overrides the document-wide bearer requirement: the route needs no token.
    security: op.auth ? [{ bearer: [] }] : [],
    responses,
  };
  if (params.length > 0) out.parameters = params;
  if (op.body) {
    out.requestBody = { required: true, content: { 'application/json': { schema: op.body } } };
  }
  return out;
}

const SCHEMAS: Record<string, Json> = {
  Error: obj(
    {
      error: obj(
        {
          code: str({ pattern: '^[a-z][a-z0-9-]*$', description: 'Stable code to branch on.' }),
          message: str({ description: 'For humans; may change.' }),
          field: str({ description: 'The offending input: a body path or header name.' }),
          requestId: str(),
        },
        ['code', 'message', 'requestId']
      ),
    },
    ['error']
  ),
  Account: obj(
    {
      id: str({ format: 'uuid' }),
      name: str(),
      createdAt: dateTime,
      admin: { type: 'boolean' },
      hasPassword: { type: 'boolean' },
    },
    ['id', 'name', 'createdAt', 'admin', 'hasPassword']
  ),
  NewAccount: obj(
    {
      account: ref('Account'),
      token: str({ description: 'Shown once.' }),
      recoveryCodes: arr(str(), { description: 'Shown once.' }),
    },
    ['account', 'token', 'recoveryCodes']
  ),
  TokenInfo: obj(
    {
      id: str({ pattern: '^[0-9a-f]{12}$' }),
      accountId: str(),
      label: str(),
      createdAt: dateTime,
      expiresAt: { type: ['string', 'null'], format: 'date-time' },
      revokedAt: { type: ['string', 'null'], format: 'date-time' },
      lastUsedAt: dateTime,
    },
    ['id', 'accountId', 'label', 'createdAt', 'expiresAt', 'revokedAt']
  ),
  IssuedToken: obj({ token: str({ description: 'Shown once.' }), info: ref('TokenInfo') }, [
    'token',
    'info',
  ]),
  Node: obj(
    {
      peerId: str(),
      name: str(),
      addresses: arr(str()),
      addedAt: dateTime,
      online: { type: 'boolean', description: 'In lists only: connected now.' },
    },
    ['peerId', 'name', 'addresses', 'addedAt']
  ),
  Key: obj(
    {
      keyId: str(),
      accountId: str(),
      publicKey: str({ description: 'Compressed secp256k1 point, hex.' }),
      address: str({ description: 'EIP-55 Ethereum address.' }),
      participants: arr(str()),
      threshold: { type: 'integer' },
      level: str(),
      createdAt: dateTime,
      sessionId: str(),
      label: str(),
    },
    ['keyId', 'accountId', 'publicKey', 'address', 'participants', 'threshold', 'level']
  ),
  Session: obj(
    {
      id: str(),
      kind: { enum: ['keygen', 'sign'] },
      status: { enum: ['inviting', 'joining', 'running', 'completed', 'failed', 'expired'] },
      createdAt: dateTime,
      updatedAt: dateTime,
      expiresAt: { ...dateTime, description: 'Deadline for every participant to join.' },
      participants: arr(str()),
      joined: { type: 'integer' },
      ready: { type: 'integer' },
      reported: { type: 'integer' },
      keyId: str({ description: 'Sign sessions only.' }),
      digest: str({ description: 'Sign sessions only: the 32-byte digest signed, hex.' }),
      label: str(),
      result: {
        oneOf: [
          obj({ kind: { const: 'keygen' }, keyId: str(), publicKey: str(), address: str() }, [
            'kind',
            'keyId',
            'publicKey',
            'address',
          ]),
          obj(
            {
              kind: { const: 'sign' },
              r: str(),
              s: str(),
              recid: int(0, 3),
              signature65: str({ description: 'r ‖ s ‖ (27 + recid), hex.' }),
              der: str(),
            },
            ['kind', 'r', 's', 'recid', 'signature65', 'der']
          ),
        ],
      },
      failure: obj(
        {
          reason: str(),
          detail: str(),
          culprits: arr(obj({ party: str(), reason: str() }, ['party', 'reason'])),
        },
        ['reason', 'detail', 'culprits']
      ),
    },
    ['id', 'kind', 'status', 'createdAt', 'updatedAt', 'expiresAt', 'participants']
  ),
};

const password = (description: string): Json =>
  str({ minLength: 12, maxLength: 1024, description });
const nodeNames = (description: string): Json =>
  arr(str({ minLength: 1 }), { minItems: 2, maxItems: 16, uniqueItems: true, description });

/** Every documented path and method (OpenAPI `{id}` syntax), in the order of `api.ts`. */
const PATHS: Record<string, Record<string, Op>> = {
  '/v1/setup': {
    post: {
      summary: 'Create the first (admin) account with the one-time setup token',
      auth: false,
      tag: 'accounts',
      body: body(
        {
          setupToken: str({ maxLength: 256 }),
          name: str({ maxLength: 64 }),
          password: password('Optional.'),
        },
        ['setupToken', 'name']
      ),
      ok: [201, ref('NewAccount'), 'The account, its first token and its recovery codes'],
      errors: [409],
    },
  },
  '/v1/login': {
    post: {
      summary: 'Exchange a name and password for a new token',
      auth: false,
      tag: 'accounts',
      body: body({ name: str({ maxLength: 64 }), password: str({ maxLength: 1024 }) }, [
        'name',
        'password',
      ]),
      ok: [200, ref('IssuedToken'), 'A new token'],
    },
  },
  '/v1/accounts/recover': {
    post: {
      summary: 'Set a new password with a recovery code',
      auth: false,
      tag: 'accounts',
      body: body(
        {
          name: str({ maxLength: 64 }),
          recoveryCode: str({ maxLength: 64 }),
          newPassword: password('The new password.'),
        },
        ['name', 'recoveryCode', 'newPassword']
      ),
      ok: [
        200,
        {
          allOf: [
            ref('IssuedToken'),
            obj({ remainingCodes: { type: 'integer', minimum: 0 } }, ['remainingCodes']),
          ],
        },
        'A new token and how many recovery codes are left',
      ],
    },
  },
  '/v1/accounts': {
    post: {
      summary: 'Create an account (admin only)',
      auth: true,
      tag: 'accounts',
      body: body(
        {
          name: str({ maxLength: 64 }),
          password: password('Optional.'),
          admin: { type: 'boolean' },
        },
        ['name']
      ),
      ok: [201, ref('NewAccount'), 'The account, its first token and its recovery codes'],
      errors: [403, 409],
    },
  },
  '/v1/account': {
    get: {
      summary: 'The calling account',
      auth: true,
      tag: 'accounts',
      ok: [200, ref('Account'), 'The account'],
    },
  },
  '/v1/tokens': {
    get: {
      summary: "The caller's tokens, revoked and expired included",
      auth: true,
      tag: 'tokens',
      ok: [200, obj({ tokens: arr(ref('TokenInfo')) }, ['tokens']), 'Tokens, oldest first'],
    },
    post: {
      summary: 'Issue a new token',
      auth: true,
      tag: 'tokens',
      body: body(
        {
          label: str({ minLength: 1, maxLength: 64, description: 'No control characters.' }),
          ttlDays: { ...int(1, 3650), description: 'Lifetime in days (default 90).' },
        },
        ['label']
      ),
      ok: [201, ref('IssuedToken'), 'The new token'],
      errors: [404],
    },
  },
  '/v1/tokens/{id}': {
    delete: {
      summary: 'Revoke one of your tokens (its 12-hex-character id)',
      auth: true,
      tag: 'tokens',
      ok: [204, null, 'Revoked'],
      errors: [404],
    },
  },
  '/v1/nodes': {
    get: {
      summary: 'Registered daemons and whether each is online',
      auth: true,
      tag: 'nodes',
      ok: [200, obj({ nodes: arr(ref('Node')) }, ['nodes']), 'Nodes, by name'],
    },
    post: {
      summary: 'Register a daemon (admin only)',
      auth: true,
      tag: 'nodes',
      body: body(
        {
          peerId: str({ maxLength: 128, description: 'Ed25519 libp2p peer id (12D3KooW…).' }),
          name: str({ maxLength: 64, pattern: '^[a-z0-9][a-z0-9._-]{0,62}$' }),
          addresses: arr(str({ minLength: 1, maxLength: 256, description: 'A multiaddr.' }), {
            maxItems: 8,
          }),
        },
        ['peerId', 'name']
      ),
      ok: [201, ref('Node'), 'The registered node'],
      errors: [403, 409],
    },
  },
  '/v1/nodes/{id}': {
    delete: {
      summary: 'Unregister a daemon by peer id or name (admin only)',
      auth: true,
      tag: 'nodes',
      ok: [204, null, 'Unregistered'],
      errors: [403, 404],
    },
  },
  '/v1/keys': {
    post: {
      summary: 'Start a key generation session (give parties or nodes)',
      auth: true,
      tag: 'keys',
      body: body(
        {
          threshold: { ...int(2, 16), description: 'Signers needed; at most the party count.' },
          parties: {
            ...int(2, 16),
            description: 'How many nodes; must equal nodes.length if both are given.',
          },
          nodes: nodeNames('Names of the nodes to hold the key.'),
          label: str({ maxLength: 128 }),
          level: { enum: ['level128', 'level112'], default: 'level128' },
        },
        ['threshold']
      ),
      idempotent: true,
      location: true,
      ok: [202, ref('Session'), 'The session, started'],
      errors: [409],
    },
    get: {
      summary: "The caller's keys",
      auth: true,
      tag: 'keys',
      ok: [200, obj({ keys: arr(ref('Key')) }, ['keys']), 'Keys'],
    },
  },
  '/v1/keys/{id}': {
    get: {
      summary: 'One key',
      auth: true,
      tag: 'keys',
      ok: [200, ref('Key'), 'The key'],
      errors: [404],
    },
  },
  '/v1/keys/{id}/signatures': {
    post: {
      summary: 'Start a signing session: give exactly one of digest, message or messageHex',
      auth: true,
      tag: 'keys',
      body: body(
        {
          digest: str({
            pattern: '^(0[xX])?[0-9a-fA-F]{64}$',
            description: '32 bytes, hex; signed as is.',
          }),
          message: str({ maxLength: 65536, description: 'UTF-8 text, hashed per `hashing`.' }),
          messageHex: str({ maxLength: 131072, pattern: '^(0x)?([0-9a-fA-F]{2})*$' }),
          hashing: {
            enum: ['eth-personal', 'keccak256', 'sha256'],
            default: 'eth-personal',
            description: 'For message or messageHex only.',
          },
          signers: nodeNames('Exactly `threshold` key holders; default: the first ones online.'),
        },
        []
      ),
      idempotent: true,
      location: true,
      ok: [202, ref('Session'), 'The session, started'],
      errors: [404, 409],
    },
  },
  '/v1/sessions/{id}': {
    get: {
      summary: 'A session',
      auth: true,
      tag: 'sessions',
      ok: [200, ref('Session'), 'The session'],
      errors: [404],
    },
  },
  '/v1/sessions/{id}/events': {
    get: {
      summary:
        'Server-sent events: one `status` event (data: a Session) per change, until terminal',
      auth: true,
      tag: 'sessions',
      media: 'text/event-stream',
      ok: [200, { type: 'string' }, 'An event stream'],
      errors: [404],
    },
  },
  '/v1/openapi.json': {
    get: {
      summary: 'This document',
      auth: false,
      tag: 'meta',
      ok: [200, { type: 'object' }, 'OpenAPI 3.1 document'],
    },
  },
  '/healthz': {
    get: {
      summary: 'Liveness: the peer id and how many nodes are registered',
      auth: false,
      tag: 'meta',
      ok: [
        200,
        obj({ ok: { const: true }, peerId: str(), nodes: { type: 'integer', minimum: 0 } }, [
          'ok',
          'peerId',
          'nodes',
        ]),
        'Up',
      ],
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      auth: false,
      tag: 'meta',
      media: 'text/plain',
      ok: [200, { type: 'string' }, 'Metrics'],
    },
  },
};

/**
 * The OpenAPI 3.1 document of the coordinator-lite API. A fresh object on every call, so a caller
 * may change its copy.
 * @returns the document, JSON-serializable
 * @example
 * createApiServer({ ..., openapi: openApiDocument() }); // served at GET /v1/openapi.json
 */
export function openApiDocument(): object {
  const paths: Json = {};
  for (const [path, methods] of Object.entries(PATHS)) {
    const item: Json = {};
    for (const [method, op] of Object.entries(methods)) item[method] = operation(path, op);
    paths[path] = item;
  }
  const responses: Json = {};
  for (const [status, description] of Object.entries(ERROR_TEXT)) {
    const r: Json = {
      description,
      headers: { 'X-Request-Id': { $ref: '#/components/headers/RequestId' } },
      content: { 'application/json': { schema: ref('Error') } },
    };
    responses[`E${status}`] = r;
  }
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'mpcd coordinator-lite',
      version: '1',
      description:
        'Accounts and tokens, the node registry, threshold-ECDSA key generation and signing sessions. ' +
        'Every error has the body `{ "error": { "code", "message", "field"?, "requestId" } }`.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API token, `mpc_<id>_<secret>`.',
        },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Retrying with the same key and the same request replays the first reply instead of ' +
            'starting a second session; the same key with another request is a 409.',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' },
        },
      },
      headers: {
        RequestId: {
          description: 'Also in every error body and the server log.',
          schema: { type: 'string' },
        },
        Replayed: {
          description: '`true` when this is a replayed reply.',
          schema: { const: 'true' },
        },
      },
      responses,
      schemas: SCHEMAS,
    },
  };
  // A deep copy: callers get their own, and anything not JSON would fail here, not in a client.
  return JSON.parse(JSON.stringify(doc)) as object;
}
