/**
 * Logging: secret-named keys are redacted at the top level and one level down (and only there),
 * every component line carries its `component`, levels filter, and errors keep only their
 * whitelisted fields. Lines are captured by an in-memory destination and parsed as JSON.
 */
import { describe, expect, it } from 'vitest';
import {
  LOG_LEVELS,
  REDACTED,
  REDACTED_KEYS,
  component,
  createLogger,
  isLogLevel,
  serializeError,
  type LogLevel,
} from '../../daemon/log.js';

/** A logger writing into an array of parsed JSON lines. */
function capture(level: LogLevel = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level,
    name: 'test-proc',
    destination: { write: (s: string) => void lines.push(JSON.parse(s)) },
  });
  return { log, lines };
}

describe('createLogger', () => {
  it('writes JSON lines with name, pid, ISO time, level and msg', () => {
    const { log, lines } = capture('info');
    log.info({ peers: 3 }, 'started');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).toMatchObject({ level: 30, name: 'test-proc', pid: process.pid, peers: 3 });
    expect(line.msg).toBe('started');
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line).not.toHaveProperty('hostname');
  });

  it('redacts every secret-named key at the top level', () => {
    const { log, lines } = capture();
    const obj = Object.fromEntries(REDACTED_KEYS.map((k) => [k, `value-of-${k}`]));
    log.info({ ...obj, sessionId: 'abc' }, 'top');
    const line = lines[0]!;
    for (const k of REDACTED_KEYS) expect(line[k], k).toBe(REDACTED);
    expect(line.sessionId).toBe('abc');
    expect(JSON.stringify(line)).not.toContain('value-of-');
  });

  it('redacts secret-named keys one level down, leaving their siblings', () => {
    const { log, lines } = capture();
    const inner = Object.fromEntries(REDACTED_KEYS.map((k) => [k, `value-of-${k}`]));
    log.warn({ config: { ...inner, port: 7000 }, party: { index: 2, share: '0xdead' } }, 'nested');
    const line = lines[0] as { config: Record<string, unknown>; party: Record<string, unknown> };
    for (const k of REDACTED_KEYS) expect(line.config[k], k).toBe(REDACTED);
    expect(line.config.port).toBe(7000);
    expect(line.party).toEqual({ index: 2, share: REDACTED });
    expect(JSON.stringify(line)).not.toContain('value-of-');
    expect(JSON.stringify(line)).not.toContain('0xdead');
  });

  it('redacts in child loggers and in child bindings', () => {
    const { log, lines } = capture();
    const child = log.child({ token: 'bound-secret' });
    child.info({ auth: { authorization: 'Bearer xyz' } }, 'child');
    expect(lines[0]!.token).toBe(REDACTED);
    expect(lines[0]!.auth).toEqual({ authorization: REDACTED });
    expect(JSON.stringify(lines[0])).not.toMatch(/bound-secret|xyz/);
  });

  it('does not touch keys that merely contain a secret name', () => {
    const { log, lines } = capture();
    log.info({ tokenCount: 2, shares: 5, px: 1 }, 'similar names');
    expect(lines[0]).toMatchObject({ tokenCount: 2, shares: 5, px: 1 });
  });

  it('filters by level, and silent writes nothing', () => {
    const { log, lines } = capture('warn');
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    expect(lines.map((l) => l.msg)).toEqual(['w', 'e', 'f']);
    const quiet = capture('silent');
    quiet.log.fatal('nothing');
    expect(quiet.lines).toEqual([]);
  });

  it('rejects an unknown level and an empty name, naming the field', () => {
    expect(() => createLogger({ level: 'verbose' as LogLevel, name: 'x' })).toThrow(
      /log level: expected one of fatal, error.*got "verbose"/
    );
    expect(() => createLogger({ level: 'info', name: '' })).toThrow(/log name/);
  });

  it('isLogLevel accepts exactly LOG_LEVELS', () => {
    for (const l of LOG_LEVELS) expect(isLogLevel(l)).toBe(true);
    expect(isLogLevel('INFO')).toBe(false);
    expect(isLogLevel(30)).toBe(false);
  });
});

describe('component', () => {
  it('adds the component field to every line of the child', () => {
    const { log, lines } = capture();
    const ks = component(log, 'keystore');
    ks.info('opened');
    component(ks, 'rotation').debug('nested');
    log.info('root');
    expect(lines[0]).toMatchObject({ component: 'keystore', msg: 'opened', name: 'test-proc' });
    expect(lines[1]).toMatchObject({ component: 'rotation', msg: 'nested' });
    expect(lines[2]).not.toHaveProperty('component');
  });
});

describe('error serialization', () => {
  it('keeps name, message, code and stack and drops other enumerable properties', () => {
    const { log, lines } = capture();
    class CodedError extends Error {
      override readonly name = 'CodedError';
      readonly code = 'SESSION_TIMEOUT';
      readonly state = { k: 'secret-nonce-123' };
    }
    const err = new CodedError('round 2 timed out');
    log.error({ err, sessionId: 's1' }, 'session failed');
    const logged = lines[0]!.err as Record<string, unknown>;
    expect(Object.keys(logged).sort()).toEqual(['code', 'message', 'name', 'stack']);
    expect(logged).toMatchObject({
      name: 'CodedError',
      message: 'round 2 timed out',
      code: 'SESSION_TIMEOUT',
    });
    expect(logged.stack).toContain('round 2 timed out');
    expect(JSON.stringify(lines[0])).not.toContain('secret-nonce-123');
  });

  it('applies to an error passed as the first argument and under `error`', () => {
    const { log, lines } = capture();
    const err = Object.assign(new Error('boom'), { payload: 'leak-me' });
    log.error(err);
    log.warn({ error: err }, 'second');
    expect(lines[0]!.msg).toBe('boom');
    expect(Object.keys(lines[0]!.err as object).sort()).toEqual(['message', 'name', 'stack']);
    expect(Object.keys(lines[1]!.error as object).sort()).toEqual(['message', 'name', 'stack']);
    expect(JSON.stringify(lines)).not.toContain('leak-me');
  });

  it('follows cause with the same whitelist, to a bounded depth', () => {
    const root = Object.assign(new Error('disk full'), { code: 'ENOSPC', path: '/secret/path' });
    const top = new Error('write failed', { cause: root });
    const s = serializeError(top);
    expect(s.cause).toMatchObject({ name: 'Error', message: 'disk full', code: 'ENOSPC' });
    expect(JSON.stringify(s)).not.toContain('/secret/path');
    // A cycle terminates.
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    let depth = 0;
    for (let c: unknown = serializeError(a); c; c = (c as { cause?: unknown }).cause) depth++;
    expect(depth).toBe(4);
  });

  it('reduces thrown non-errors to their type (strings become the message)', () => {
    expect(serializeError('plain')).toEqual({ name: 'NonError', message: 'plain' });
    expect(serializeError(42)).toEqual({
      name: 'NonError',
      message: 'thrown value of type number',
    });
    expect(serializeError({ password: 'pw' })).toEqual({ name: 'Error', message: '' });
  });
});
