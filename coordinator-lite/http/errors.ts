/**
 * The one error type of the coordinator-lite HTTP API and the one error body every failure gets
 * (issue 6: "consistent error shape; request ids"):
 *
 * ```json
 * { "error": { "code": "bad-request", "message": "threshold: must be ≥ 1", "field": "threshold",
 *              "requestId": "3f0c…" } }
 * ```
 *
 * `code` is a stable, lower-case, dash-separated string a client may branch on; `message` is for
 * humans and may change; `field` names the offending input (a body path such as `parties[2]`, or
 * a header name) when there is one; `requestId` ties the answer to the server's log line.
 *
 * A message is built by the server from the input's *shape* (lengths, types, names), never by
 * echoing a value the client sent — a body may carry a password or token.
 * @module
 */

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string; requestId: string };
}

/**
 * A failure to answer with a given HTTP status. Throw it from a route handler (or from
 * `authenticate`); the server turns it into the {@link ErrorBody} and the status. Any other thrown
 * value becomes a generic 500 `internal`.
 * @example throw new ApiError(409, 'session-started', 'the session has already started');
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status, 400..599. */
  readonly status: number;
  /** Stable machine-readable code, e.g. `bad-request`, `not-found`. */
  readonly code: string;
  /** The offending input (body path or header name), when there is one. */
  readonly field?: string;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Allow`). */
  readonly headers: Readonly<Record<string, string>>;

  /**
   * @param status - HTTP status, an integer in 400..599
   * @param code - stable code, `^[a-z][a-z0-9-]*$`
   * @param message - human-readable text, free of client-supplied values
   * @param field - the offending input, if any
   * @param headers - extra response headers
   * @throws TypeError on a status outside 400..599 or a malformed code (a programming error)
   */
  constructor(
    status: number,
    code: string,
    message: string,
    field?: string,
    headers: Record<string, string> = {}
  ) {
    super(message);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`ApiError status: expected an integer in 400..599, got ${status}`);
    }
    if (!/^[a-z][a-z0-9-]*$/.test(code)) {
      throw new TypeError('ApiError code: expected lower-case words joined by dashes');
    }
    this.status = status;
    this.code = code;
    if (field !== undefined) this.field = field;
    this.headers = Object.freeze({ ...headers });
  }

  /**
   * The response body for this error.
   * @param requestId - the request id of the failed request
   * @returns `{ error: { code, message, field?, requestId } }`
   */
  toBody(requestId: string): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message, requestId };
    if (this.field !== undefined) error.field = this.field;
    return { error };
  }
}

/**
 * 400 `bad-request` naming the offending field.
 * @example throw badRequest('threshold', 'must be an integer in 1..16');
 */
export function badRequest(field: string, message: string): ApiError {
  return new ApiError(400, 'bad-request', `${field}: ${message}`, field);
}

/**
 * 401 `unauthorized` with `WWW-Authenticate: Bearer` (RFC 6750 §3). One message for a missing,
 * malformed, unknown, revoked or expired token, so the answer does not tell them apart.
 */
export function unauthorized(): ApiError {
  return new ApiError(401, 'unauthorized', 'a valid bearer token is required', undefined, {
    'WWW-Authenticate': 'Bearer',
  });
}

/** 403 `forbidden`: authenticated, but not allowed to do this. */
export function forbidden(): ApiError {
  return new ApiError(403, 'forbidden', 'not allowed for this account');
}

/**
 * 404 `not-found`.
 * @param what - what was not found, e.g. `'key'` (a noun, not the client's id)
 * @example throw notFound('session'); // "no such session"
 */
export function notFound(what: string): ApiError {
  return new ApiError(404, 'not-found', `no such ${what}`);
}

/**
 * 409 `conflict`.
 * @example throw conflict('the session has already started');
 */
export function conflict(message: string): ApiError {
  return new ApiError(409, 'conflict', message);
}

/**
 * 413 `payload-too-large` with the limit in the message.
 * @param limit - the body limit in bytes
 */
export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload-too-large', `request body exceeds ${limit} bytes`, 'body');
}

/** 415 `unsupported-media-type`: request bodies must be JSON. */
export function unsupportedMediaType(): ApiError {
  return new ApiError(
    415,
    'unsupported-media-type',
    'Content-Type must be application/json',
    'Content-Type'
  );
}

/** 500 `internal`: the generic answer to an unexpected failure, whose details go to the log only. */
export function internalError(): ApiError {
  return new ApiError(500, 'internal', 'internal error');
}
