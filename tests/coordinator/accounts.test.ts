/**
 * coordinator-lite accounts (issue 6 "Accounts"): the one-time setup token, account creation and
 * case-insensitive name uniqueness, bearer-token authentication (revoked, expired via an injected
 * clock, malformed — one error), token creation/listing/revocation scoped to the owner, password
 * login with the same error and the same scrypt work for every failure, single-use recovery
 * codes, persistence across a reopen, and — scanned in the raw LevelDB files and in the captured
 * log lines — no token, code or password in clear anywhere.
 *
 * `verifyPassword` is wrapped in a call-counting spy (behaviour unchanged) to show that a login
 * for an unknown name still runs scrypt.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, type Logger } from '../../daemon/log.js';
import {
  AccountError,
  Accounts,
  DEFAULT_TTL_DAYS,
  type AccountErrorCode,
} from '../../coordinator-lite/accounts.js';
import {
  RECOVERY_ALPHABET,
  hashPassword,
  hashSecret,
  newRecoveryCodes,
  newSetupToken,
  newToken,
  normalizeRecoveryCode,
  parseToken,
  safeEqualHex,
  verifyPassword,
} from '../../coordinator-lite/secrets.js';
import { Store } from '../../coordinator-lite/store.js';

vi.mock('../../coordinator-lite/secrets.js', async (importOriginal) => {
  const mod: Record<string, unknown> = await importOriginal();
  const real = mod.verifyPassword as (pw: string, encoded: string) => Promise<boolean>;
  return { ...mod, verifyPassword: vi.fn(real) };
});

const PASSWORD = 'correct horse battery staple';
const T0 = new Date('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;

let root: string;
let dir: string;
let store: Store;
let lines: string[];
let log: Logger;
let clock: Date;
let accounts: Accounts;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mpcd-accounts-'));
  dir = join(root, 'db');
  store = await Store.open(dir);
  lines = [];
  log = createLogger({
    level: 'trace',
    name: 'test',
    destination: { write: (s) => void lines.push(s) },
  });
  clock = T0;
  accounts = new Accounts(store, log, () => clock);
});
afterEach(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** Await `p` and return its AccountError after checking its code (fails if `p` resolves). */
async function refused(p: Promise<unknown>, code: AccountErrorCode): Promise<AccountError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(AccountError);
  expect((err as AccountError).code).toBe(code);
  return err as AccountError;
}

/** Bootstrap an admin named `admin` with a password. */
async function bootstrapAdmin() {
  const setup = (await accounts.ensureSetupToken())!;
  return { setup, ...(await accounts.bootstrap(setup, { name: 'admin', password: PASSWORD })) };
}

describe('secrets', () => {
  it('makes tokens mpc_<12 hex>_<43 base64url> that parse back, all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { token, id } = newToken();
      expect(token).toMatch(/^mpc_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(parseToken(token)).toEqual({ id, secret: token.slice(17) });
      seen.add(token);
    }
    expect(seen.size).toBe(50);
    for (const bad of [
      '',
      'mpc_',
      'mpc_0123456789AB_' + 'a'.repeat(43),
      `Bearer ${newToken().token}`,
      7,
    ]) {
      expect(parseToken(bad)).toBeUndefined();
    }
    expect(newSetupToken()).toMatch(/^setup_[A-Za-z0-9_-]{43}$/);
  });

  it('makes recovery codes xxxx-xxxx-xxxx over a 32-symbol unambiguous alphabet (60 bits)', () => {
    expect(new Set(RECOVERY_ALPHABET).size).toBe(32);
    for (const ch of 'ilou') expect(RECOVERY_ALPHABET).not.toContain(ch);
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      expect(normalizeRecoveryCode(c)).toBe(c);
      expect(normalizeRecoveryCode(` ${c.replace(/-/g, '').toUpperCase()} `)).toBe(c);
    }
    expect(normalizeRecoveryCode('OIL0-0000-0000')).toBe('0110-0000-0000');
    expect(normalizeRecoveryCode('0000-0000-000')).toBeUndefined();
    expect(normalizeRecoveryCode('0000-0000-000u')).toBeUndefined();
  });

  it('hashes passwords as scrypt$15$8$1$salt$hash, verifies right and refuses wrong', async () => {
    const enc = await hashPassword(PASSWORD);
    expect(enc).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await hashPassword(PASSWORD)).not.toBe(enc); // fresh salt
    expect(await verifyPassword(PASSWORD, enc)).toBe(true);
    expect(await verifyPassword(PASSWORD + '!', enc)).toBe(false);
    await expect(verifyPassword(PASSWORD, 'scrypt$30$8$1$AAAA$AAAA')).rejects.toThrow(
      /password hash/
    );
  });

  it('compares hex digests in constant time, unequal on any difference', () => {
    const h = hashSecret('abc');
    expect(h).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(safeEqualHex(h, h.toUpperCase())).toBe(true);
    expect(safeEqualHex(h, hashSecret('abd'))).toBe(false);
    expect(safeEqualHex(h, h.slice(2))).toBe(false);
    expect(safeEqualHex('zz', 'zz')).toBe(false);
  });
});

describe('setup token and bootstrap', () => {
  it('issues the setup token once; the right token bootstraps an admin and is then burnt', async () => {
    const setup = await accounts.ensureSetupToken();
    expect(setup).toMatch(/^setup_/);
    expect(await accounts.ensureSetupToken()).toBeUndefined(); // not printed again

    const wrong = await refused(
      accounts.bootstrap(newSetupToken(), { name: 'admin' }),
      'UNAUTHENTICATED'
    );
    expect(wrong.field).toBe('setupToken');
    // Bad input does not burn the token.
    expect((await refused(accounts.bootstrap(setup!, { name: '-bad' }), 'INVALID')).field).toBe(
      'name'
    );

    const out = await accounts.bootstrap(setup!, { name: 'Admin', password: PASSWORD });
    expect(out.account).toMatchObject({ name: 'admin', admin: true, hasPassword: true });
    expect(out.account.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    );
    expect(out.account.createdAt).toBe(T0.toISOString());
    expect(out.recoveryCodes).toHaveLength(10);
    expect(await accounts.authenticate(out.token)).toEqual(out.account);
    expect(await accounts.get(out.account.id)).toEqual(out.account);

    await refused(accounts.bootstrap(setup!, { name: 'second' }), 'SETUP_USED');
    await refused(accounts.bootstrap(newSetupToken(), { name: 'second' }), 'SETUP_USED');
    expect(await accounts.ensureSetupToken()).toBeUndefined();
    expect(await accounts.ensureSetupToken({ renew: true })).toBeUndefined();
  });

  it('renew replaces an unused setup token: the old one stops working', async () => {
    const first = (await accounts.ensureSetupToken())!;
    const second = (await accounts.ensureSetupToken({ renew: true }))!;
    expect(second).not.toBe(first);
    await refused(accounts.bootstrap(first, { name: 'admin' }), 'UNAUTHENTICATED');
    const out = await accounts.bootstrap(second, { name: 'admin' });
    expect(out.account).toMatchObject({ admin: true, hasPassword: false });
  });

  it('refuses a bootstrap when no setup token was issued', async () => {
    await refused(accounts.bootstrap(newSetupToken(), { name: 'admin' }), 'UNAUTHENTICATED');
  });

  it('lets exactly one of two concurrent bootstraps win', async () => {
    const setup = (await accounts.ensureSetupToken())!;
    const results = await Promise.allSettled([
      accounts.bootstrap(setup, { name: 'one' }),
      accounts.bootstrap(setup, { name: 'two' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const err = results.find((r) => r.status === 'rejected')!.reason as AccountError;
    expect(err.code).toBe('SETUP_USED');
  });
});

describe('create', () => {
  it('an admin creates accounts; names are unique case-insensitively (CONFLICT on name)', async () => {
    const { account: admin } = await bootstrapAdmin();
    const bob = await accounts.create(admin, { name: 'bob', password: PASSWORD });
    expect(bob.account).toMatchObject({ name: 'bob', admin: false, hasPassword: true });
    expect(bob.recoveryCodes).toHaveLength(10);
    expect((await accounts.authenticate(bob.token)).id).toBe(bob.account.id);
    for (const name of ['bob', 'Bob', 'BOB']) {
      const err = await refused(accounts.create(admin, { name }), 'CONFLICT');
      expect(err.field).toBe('name');
    }
    const carol = await accounts.create(admin, { name: 'carol', admin: true });
    expect(carol.account).toMatchObject({ admin: true, hasPassword: false });
  });

  it('refuses a non-admin creator with FORBIDDEN', async () => {
    const { account: admin } = await bootstrapAdmin();
    const bob = await accounts.create(admin, { name: 'bob' });
    await refused(accounts.create(bob.account, { name: 'eve' }), 'FORBIDDEN');
    // A caller-made object claiming admin does not count: the stored record decides.
    await refused(accounts.create({ ...bob.account, admin: true }, { name: 'eve' }), 'FORBIDDEN');
  });

  it('names the bad field and never echoes a password', async () => {
    const { account: admin } = await bootstrapAdmin();
    const badNames = ['a', '-ab', '.ab', 'a b', 'a/b', 'x'.repeat(64), '\u212Aate', 'é1', 7];
    for (const name of badNames) {
      const err = await refused(accounts.create(admin, { name: name as string }), 'INVALID');
      expect(err.field).toBe('name');
    }
    expect((await accounts.create(admin, { name: 'a'.repeat(63) })).account.name).toHaveLength(63);
    for (const password of ['short-pw-11', 'p'.repeat(1025), 42]) {
      const err = await refused(
        accounts.create(admin, { name: 'dave', password: password as string }),
        'INVALID'
      );
      expect(err.field).toBe('password');
      expect(err.message).not.toContain(String(password));
    }
    const err = await refused(
      accounts.create(admin, { name: 'dave', admin: 'yes' as unknown as boolean }),
      'INVALID'
    );
    expect(err.field).toBe('admin');
    expect(await store.get('accountNames', 'dave')).toBeUndefined();
  });
});

describe('authenticate and tokens', () => {
  it('refuses malformed, unknown, tampered, revoked and expired tokens with one message', async () => {
    const { token, account } = await bootstrapAdmin();
    const id = parseToken(token)!.id;
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const messages = new Set<string>();
    for (const bad of ['', 'garbage', `Bearer ${token}`, token + 'x', tampered, newToken().token]) {
      const err = await refused(accounts.authenticate(bad), 'UNAUTHENTICATED');
      expect(err.message).not.toContain(token);
      messages.add(err.message);
    }
    const { token: t2, info } = await accounts.createToken(account, { label: 'ci' });
    expect(await accounts.authenticate(t2)).toEqual(account);
    await accounts.revokeToken(account, info.id);
    messages.add((await refused(accounts.authenticate(t2), 'UNAUTHENTICATED')).message);
    // Expiry: valid until just before expiresAt, refused from it on.
    expect(info.expiresAt).toBe(new Date(T0.getTime() + DEFAULT_TTL_DAYS * DAY).toISOString());
    clock = new Date(T0.getTime() + DEFAULT_TTL_DAYS * DAY - 1);
    expect((await accounts.authenticate(token)).id).toBe(account.id);
    clock = new Date(T0.getTime() + DEFAULT_TTL_DAYS * DAY);
    messages.add((await refused(accounts.authenticate(token), 'UNAUTHENTICATED')).message);
    expect([...messages]).toEqual(['invalid, expired or revoked token']);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('records lastUsedAt at most once a minute', async () => {
    const { token, account } = await bootstrapAdmin();
    const id = parseToken(token)!.id;
    const lastUsed = async () =>
      (await accounts.listTokens(account)).find((t) => t.id === id)?.lastUsedAt;
    expect(await lastUsed()).toBeUndefined();
    await accounts.authenticate(token);
    expect(await lastUsed()).toBe(T0.toISOString());
    clock = new Date(T0.getTime() + 59_000);
    await accounts.authenticate(token);
    expect(await lastUsed()).toBe(T0.toISOString());
    clock = new Date(T0.getTime() + 60_000);
    await accounts.authenticate(token);
    expect(await lastUsed()).toBe(clock.toISOString());
  });

  it('creates tokens with a label and ttlDays 1..3650, refusing anything else by field', async () => {
    const { account } = await bootstrapAdmin();
    const { info } = await accounts.createToken(account, { label: 'laptop', ttlDays: 1 });
    expect(info).toEqual({
      id: info.id,
      accountId: account.id,
      label: 'laptop',
      createdAt: T0.toISOString(),
      expiresAt: new Date(T0.getTime() + DAY).toISOString(),
      revokedAt: null,
    });
    const max = await accounts.createToken(account, { label: 'long', ttlDays: 3650 });
    expect(max.info.expiresAt).toBe(new Date(T0.getTime() + 3650 * DAY).toISOString());
    for (const ttlDays of [0, 3651, 1.5, -1, '5']) {
      const err = await refused(
        accounts.createToken(account, { label: 'x', ttlDays: ttlDays as number }),
        'INVALID'
      );
      expect(err.field).toBe('ttlDays');
    }
    for (const label of ['', 'x'.repeat(65), 'a\nb', undefined]) {
      const err = await refused(
        accounts.createToken(account, { label: label as string }),
        'INVALID'
      );
      expect(err.field).toBe('label');
    }
  });

  it('lists and revokes only own tokens: another account’s token id is NOT_FOUND', async () => {
    const { account: admin, token: adminToken } = await bootstrapAdmin();
    const bob = await accounts.create(admin, { name: 'bob' });
    const extra = await accounts.createToken(bob.account, { label: 'script' });
    const bobTokens = await accounts.listTokens(bob.account);
    expect(bobTokens.map((t) => t.label).sort()).toEqual(['initial', 'script']);
    expect(bobTokens.every((t) => t.accountId === bob.account.id)).toBe(true);
    expect(JSON.stringify(bobTokens)).not.toContain('hash');
    const adminTokenId = parseToken(adminToken)!.id;
    expect((await accounts.listTokens(admin)).map((t) => t.id)).toEqual([adminTokenId]);

    const err = await refused(accounts.revokeToken(bob.account, adminTokenId), 'NOT_FOUND');
    expect(err.field).toBe('tokenId');
    await refused(accounts.revokeToken(bob.account, '0123456789ab'), 'NOT_FOUND');
    expect((await refused(accounts.revokeToken(bob.account, 'nope'), 'INVALID')).field).toBe(
      'tokenId'
    );
    expect((await accounts.authenticate(adminToken)).id).toBe(admin.id);

    clock = new Date(T0.getTime() + 5_000);
    await accounts.revokeToken(bob.account, extra.info.id);
    await refused(accounts.authenticate(extra.token), 'UNAUTHENTICATED');
    expect((await accounts.authenticate(bob.token)).id).toBe(bob.account.id);
    clock = new Date(T0.getTime() + 9_000);
    await accounts.revokeToken(bob.account, extra.info.id); // idempotent: keeps the first time
    const revoked = (await accounts.listTokens(bob.account)).find((t) => t.id === extra.info.id);
    expect(revoked?.revokedAt).toBe(new Date(T0.getTime() + 5_000).toISOString());
  });

  it('persists accounts and tokens across a store reopen', async () => {
    const { token, account } = await bootstrapAdmin();
    await store.close();
    store = await Store.open(dir);
    const again = new Accounts(store, log, () => clock);
    expect(await again.authenticate(token)).toEqual(account);
    expect(await again.ensureSetupToken()).toBeUndefined();
    await refused(again.create(account, { name: 'ADMIN' }), 'CONFLICT');
  });
});

describe('login', () => {
  it('gives a token for the right password (name case-insensitive)', async () => {
    const { account } = await bootstrapAdmin();
    const { token, info } = await accounts.login('ADMIN', PASSWORD, { ttlDays: 7 });
    expect(info).toMatchObject({ accountId: account.id, label: 'login' });
    expect(info.expiresAt).toBe(new Date(T0.getTime() + 7 * DAY).toISOString());
    expect(await accounts.authenticate(token)).toEqual(account);
  });

  it('wrong password, unknown name and password-less account: same error, scrypt run each time', async () => {
    const { account: admin } = await bootstrapAdmin();
    await accounts.create(admin, { name: 'nopass' });
    const spy = vi.mocked(verifyPassword);
    const messages = new Set<string>();
    for (const [name, pw] of [
      ['admin', PASSWORD + '?'],
      ['nobody', PASSWORD],
      ['nopass', PASSWORD],
      ['not a valid name', PASSWORD],
    ] as const) {
      spy.mockClear();
      const err = await refused(accounts.login(name, pw), 'UNAUTHENTICATED');
      expect(spy, name).toHaveBeenCalledTimes(1);
      expect(err.message).not.toContain(pw);
      messages.add(err.message);
    }
    expect([...messages]).toEqual(['wrong name or password']);
    const err = await refused(accounts.login('admin', 'p'.repeat(1025)), 'INVALID');
    expect(err.field).toBe('password');
  });
});

describe('recovery', () => {
  it('a code works once: new password and token; wrong, reused or foreign codes are refused', async () => {
    const { account: admin, recoveryCodes } = await bootstrapAdmin();
    const bob = await accounts.create(admin, { name: 'bob' });
    const newPassword = 'a brand new passphrase';

    await refused(
      accounts.recover('admin', newRecoveryCodes(1)[0]!, newPassword),
      'UNAUTHENTICATED'
    );
    await refused(accounts.recover('admin', bob.recoveryCodes[0]!, newPassword), 'UNAUTHENTICATED');
    await refused(accounts.recover('nobody', recoveryCodes[0]!, newPassword), 'UNAUTHENTICATED');
    const short = await refused(accounts.recover('admin', recoveryCodes[0]!, 'short'), 'INVALID');
    expect(short.field).toBe('newPassword');

    // Typed sloppily: upper case, no dashes.
    const typed = recoveryCodes[3]!.replace(/-/g, '').toUpperCase();
    const out = await accounts.recover('Admin', typed, newPassword);
    expect(out.remainingCodes).toBe(9);
    expect(out.info).toMatchObject({ accountId: admin.id, label: 'recovery' });
    expect((await accounts.authenticate(out.token)).id).toBe(admin.id);
    expect((await accounts.login('admin', newPassword)).info.accountId).toBe(admin.id);
    await refused(accounts.login('admin', PASSWORD), 'UNAUTHENTICATED');

    const reused = await refused(
      accounts.recover('admin', recoveryCodes[3]!, newPassword),
      'UNAUTHENTICATED'
    );
    expect(reused.message).toBe('wrong name or recovery code');
    expect((await accounts.recover('admin', recoveryCodes[4]!, newPassword)).remainingCodes).toBe(
      8
    );
    // A password-less account gains one through recovery.
    await accounts.recover('bob', bob.recoveryCodes[0]!, newPassword);
    expect((await accounts.get(bob.account.id))?.hasPassword).toBe(true);
  });

  it('lets exactly one of two concurrent uses of a code win', async () => {
    const { recoveryCodes } = await bootstrapAdmin();
    const results = await Promise.allSettled([
      accounts.recover('admin', recoveryCodes[0]!, 'first new password'),
      accounts.recover('admin', recoveryCodes[0]!, 'second new password'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});

describe('no secret in clear', () => {
  /** Every file under `d`, concatenated. */
  async function rawFiles(d: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (const e of await readdir(d, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) parts.push(await readFile(join(e.parentPath, e.name)));
    }
    return Buffer.concat(parts);
  }

  it('stores and logs only hashes of tokens, codes and passwords', async () => {
    const secrets: string[] = [];
    const setup = (await accounts.ensureSetupToken())!;
    const admin = await accounts.bootstrap(setup, { name: 'admin', password: PASSWORD });
    const bobPassword = 'bobs own password!';
    const bob = await accounts.create(admin.account, { name: 'bob', password: bobPassword });
    const created = await accounts.createToken(bob.account, { label: 'ci' });
    const login = await accounts.login('bob', bobPassword);
    await refused(accounts.login('bob', 'a wrong password'), 'UNAUTHENTICATED');
    await refused(accounts.authenticate(created.token + 'x'), 'UNAUTHENTICATED');
    const recoverPassword = 'recovered password 1';
    const recovered = await accounts.recover('bob', bob.recoveryCodes[0]!, recoverPassword);
    await refused(accounts.recover('bob', 'zzzz-zzzz-zzzz', recoverPassword), 'UNAUTHENTICATED');
    await accounts.authenticate(recovered.token);
    await accounts.revokeToken(bob.account, created.info.id);

    const tokens = [admin.token, bob.token, created.token, login.token, recovered.token];
    secrets.push(setup, setup.slice(6), PASSWORD, bobPassword, recoverPassword, 'a wrong password');
    secrets.push(...tokens, ...tokens.map((t) => parseToken(t)!.secret));
    for (const c of [...admin.recoveryCodes, ...bob.recoveryCodes])
      secrets.push(c, c.replace(/-/g, ''));

    await store.close();
    const raw = await rawFiles(dir);
    const logText = lines.join('');
    // The scans can see records and log lines (so a clear secret would be found).
    expect(raw.includes(hashSecret(created.token))).toBe(true);
    expect(raw.includes(bob.account.id)).toBe(true);
    expect(logText).toContain(bob.account.id);
    expect(logText).toContain(created.info.id);
    for (const s of secrets) {
      expect(raw.includes(s), 'LevelDB files').toBe(false);
      expect(logText.includes(s), 'log lines').toBe(false);
    }
    store = await Store.open(dir); // for afterEach
  });
});
