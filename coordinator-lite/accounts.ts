/**
 * Accounts of the coordinator (issue 6 "coordinator-lite → Accounts"): the first, admin account
 * is bootstrapped from a one-time setup token printed at first start; an admin creates the
 * others; each account authenticates with API tokens (random, shown once, stored hashed,
 * revocable, expiring), may log in with a password (scrypt) to get a new token, and recovers with
 * one of the one-time recovery codes issued at creation.
 *
 * Security rules, and where each is enforced:
 * - no token, code or password is stored or logged in clear — records hold `secrets.ts` hashes;
 *   log lines carry account ids, token ids (public) and labels only, never a name someone typed
 *   into a login form (it may be a mistyped password);
 * - every failed credential check gives one message per operation, whatever the reason (unknown
 *   token id, revoked, expired, malformed; unknown name or wrong password), so a client learns
 *   nothing about which part was wrong; a login for an unknown name spends the same scrypt time;
 * - hash comparisons are constant-time;
 * - names are unique case-insensitively: the `accountNames` index (canonical lower-case name →
 *   id) is written in the same atomic batch as the account, under a per-name lock;
 * - one-time things (setup token, recovery codes) are burnt in the same batch that uses them,
 *   under a lock, so two concurrent uses cannot both succeed.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../daemon/log.js';
import type { BatchOp, Store } from './store.js';
import {
  SCRYPT_PARAMS,
  hashPassword,
  hashSecret,
  newRecoveryCodes,
  newSetupToken,
  newToken,
  normalizeRecoveryCode,
  parseToken,
  safeEqualHex,
  verifyPassword,
} from './secrets.js';

/** An account as the API shows it. */
export interface Account {
  /** UUID v4. */
  id: string;
  /** Canonical (lower-case) name, unique. */
  name: string;
  createdAt: string;
  admin: boolean;
  hasPassword: boolean;
}

/** An API token as its owner sees it (never the token itself). */
export interface TokenInfo {
  /** 12 hex characters, the public part of the token (`mpc_<id>_…`). */
  id: string;
  accountId: string;
  label: string;
  createdAt: string;
  /** When it stops working; `null` = never (not issued by this version). */
  expiresAt: string | null;
  revokedAt: string | null;
  /** Last successful use, at a resolution of one minute. */
  lastUsedAt?: string;
}

/** Every way an account operation can fail. */
export type AccountErrorCode =
  'INVALID' | 'CONFLICT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'SETUP_USED';

/** An account operation failure: stable `code`, the offending input `field` when there is one. */
export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    readonly code: AccountErrorCode,
    message: string,
    readonly field?: string
  ) {
    super(message);
  }
}

/** Name rule of issue 6, applied to the lower-cased name. */
export const NAME_RE = /^[a-z0-9][a-z0-9._-]{1,62}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;
export const DEFAULT_TTL_DAYS = 90;
export const MAX_TTL_DAYS = 3650;
/** 1..64 code points, none a control character. */
const LABEL_RE = /^\P{Cc}{1,64}$/u;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TOKEN_ID_RE = /^[0-9a-f]{12}$/;
/** `lastUsedAt` is rewritten at most this often: one synced write per token per minute. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 86_400_000;
const SETUP_KEY = 'setup';

/** A valid scrypt encoding no password matches: verified against when there is no account. */
const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT_PARAMS.logN}$${SCRYPT_PARAMS.r}$${SCRYPT_PARAMS.p}$${'A'.repeat(22)}==$${'A'.repeat(43)}=`;
/** Compared against when a token id is unknown, so that failure costs what a wrong secret costs. */
const DUMMY_HASH = '0'.repeat(64);

const BAD_TOKEN = 'invalid, expired or revoked token';
const BAD_LOGIN = 'wrong name or password';
const BAD_RECOVERY = 'wrong name or recovery code';

interface AccountRecord {
  v: 1;
  id: string;
  name: string;
  createdAt: string;
  admin: boolean;
  /** scrypt encoding, or null when the account has no password. */
  passwordHash: string | null;
}
interface TokenRecord extends TokenInfo {
  v: 1;
  /** hashSecret(token). */
  hash: string;
}
interface RecoveryRecord {
  v: 1;
  codes: Array<{ hash: string; usedAt: string | null }>;
}
interface SetupRecord {
  v: 1;
  hash: string;
  createdAt: string;
  usedAt: string | null;
  accountId?: string;
}

/** What creating an account returns: everything secret is shown here once and never again. */
export interface NewAccount {
  account: Account;
  token: string;
  recoveryCodes: string[];
}

/**
 * The account service over the coordinator's {@link Store}.
 * @example
 * const accounts = new Accounts(store, log);
 * const setup = await accounts.ensureSetupToken(); // print it if defined
 * const { token } = await accounts.bootstrap(setup!, { name: 'admin', password: '…' });
 * const me = await accounts.authenticate(token);
 */
export class Accounts {
  private readonly log: Logger;

  constructor(
    private readonly store: Store,
    log: Logger,
    private readonly now: () => Date = () => new Date()
  ) {
    this.log = log.child({ component: 'accounts' });
  }

  /**
   * First start: when no account exists and no setup token is stored, make one, store its hash
   * and return it — the caller prints it; it is not retrievable later.
   * @param opts.renew - replace a stored, unused setup token (the operator lost the printed one)
   * @returns the setup token, or `undefined` when one is not needed (or already issued)
   */
  async ensureSetupToken(opts: { renew?: boolean } = {}): Promise<string | undefined> {
    return this.store.withLock('setup', async () => {
      const setup = await this.store.get<SetupRecord>('meta', SETUP_KEY);
      if (setup?.usedAt) return undefined;
      if (await this.anyAccount()) return undefined;
      if (setup && !opts.renew) {
        this.log.warn(
          { issuedAt: setup.createdAt },
          'an unused setup token was issued before; renew it if it was lost'
        );
        return undefined;
      }
      const token = newSetupToken();
      const record: SetupRecord = {
        v: 1,
        hash: hashSecret(token),
        createdAt: this.iso(),
        usedAt: null,
      };
      await this.store.put('meta', SETUP_KEY, record);
      this.log.info({ renewed: setup !== undefined }, 'setup token issued');
      return token;
    });
  }

  /**
   * Create the first (admin) account with the one-time setup token, which is burnt in the same
   * write.
   * @throws AccountError `SETUP_USED` (already bootstrapped), `UNAUTHENTICATED` (wrong token),
   *   `INVALID` (name/password; the token stays usable)
   */
  async bootstrap(
    setupToken: string,
    input: { name: string; password?: string }
  ): Promise<NewAccount> {
    return this.store.withLock('setup', async () => {
      const setup = await this.store.get<SetupRecord>('meta', SETUP_KEY);
      if (setup?.usedAt || (!setup && (await this.anyAccount()))) {
        throw new AccountError('SETUP_USED', 'the setup token was already used', 'setupToken');
      }
      const ok =
        typeof setupToken === 'string' &&
        setupToken.length <= 256 &&
        safeEqualHex(hashSecret(setupToken), setup?.hash ?? DUMMY_HASH);
      if (!setup || !ok) {
        this.log.warn('bootstrap refused: wrong setup token');
        throw new AccountError('UNAUTHENTICATED', 'wrong setup token', 'setupToken');
      }
      return this.newAccount(input, true, (accountId) => [
        {
          type: 'put',
          c: 'meta',
          key: SETUP_KEY,
          value: { ...setup, usedAt: this.iso(), accountId } satisfies SetupRecord,
        },
      ]);
    });
  }

  /**
   * An admin creates another account.
   * @throws AccountError `FORBIDDEN` (not an admin), `INVALID`, `CONFLICT` (name taken)
   */
  async create(
    by: Account,
    input: { name: string; password?: string; admin?: boolean }
  ): Promise<NewAccount> {
    const actor = await this.record(by?.id);
    if (!actor?.admin) {
      throw new AccountError('FORBIDDEN', 'only an admin account can create accounts');
    }
    if (typeof input !== 'object' || input === null) {
      throw new AccountError('INVALID', 'body: expected an object', 'body');
    }
    if (input.admin !== undefined && typeof input.admin !== 'boolean') {
      throw new AccountError('INVALID', 'admin: expected a boolean', 'admin');
    }
    const created = await this.newAccount(input, input.admin ?? false);
    this.log.info({ by: actor.id, accountId: created.account.id }, 'account created by admin');
    return created;
  }

  /**
   * The account a bearer token belongs to.
   * @throws AccountError `UNAUTHENTICATED` — one message for unknown, revoked, expired, malformed
   */
  async authenticate(bearer: string): Promise<Account> {
    const parsed = parseToken(bearer);
    if (!parsed) throw new AccountError('UNAUTHENTICATED', BAD_TOKEN);
    const rec = await this.store.get<TokenRecord>('tokens', parsed.id);
    // Compare even for an unknown id, so that failure costs what a wrong secret costs.
    const match = safeEqualHex(hashSecret(bearer), rec?.hash ?? DUMMY_HASH);
    const now = this.now();
    const account = rec && match ? await this.record(rec.accountId) : undefined;
    if (!rec || !match || !account || rec.revokedAt !== null || expired(rec, now)) {
      this.log.debug({ tokenId: parsed.id }, 'token refused');
      throw new AccountError('UNAUTHENTICATED', BAD_TOKEN);
    }
    await this.touch(rec, now);
    return toAccount(account);
  }

  /**
   * Password login → a new token. Unknown name, no password set and wrong password all give the
   * same error after the same scrypt work.
   * @throws AccountError `UNAUTHENTICATED`, `INVALID` (types, lengths, ttlDays, label)
   */
  async login(
    name: string,
    password: string,
    opts: { ttlDays?: number; label?: string } = {}
  ): Promise<{ token: string; info: TokenInfo }> {
    if (typeof name !== 'string')
      throw new AccountError('INVALID', 'name: expected a string', 'name');
    if (typeof password !== 'string' || password.length > PASSWORD_MAX) {
      throw new AccountError(
        'INVALID',
        `password: expected at most ${PASSWORD_MAX} characters`,
        'password'
      );
    }
    const ttlDays = checkTtl(opts.ttlDays);
    const label = checkLabel(opts.label ?? 'login');
    const canonical = canonicalName(name);
    const id = canonical && (await this.store.get<string>('accountNames', canonical));
    const rec = id ? await this.record(id) : undefined;
    const ok = await verifyPassword(password, rec?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!rec?.passwordHash || !ok) {
      // The typed name is not logged: people type passwords into name fields.
      this.log.info({ accountId: rec?.id }, 'login refused');
      throw new AccountError('UNAUTHENTICATED', BAD_LOGIN);
    }
    const issued = await this.issue(rec.id, label, ttlDays);
    await this.store.batch([issued.op]);
    this.log.info({ accountId: rec.id, tokenId: issued.info.id }, 'login');
    return { token: issued.token, info: issued.info };
  }

  /**
   * A new API token for `account`.
   * @param opts.label - 1..64 printable characters (shown in lists)
   * @param opts.ttlDays - lifetime in whole days, 1..3650, default 90
   * @throws AccountError `INVALID` (`label`, `ttlDays`), `NOT_FOUND` (the account is gone)
   */
  async createToken(
    account: Account,
    opts: { label: string; ttlDays?: number }
  ): Promise<{ token: string; info: TokenInfo }> {
    const label = checkLabel(opts?.label);
    const ttlDays = checkTtl(opts?.ttlDays);
    const rec = await this.record(account?.id);
    if (!rec) throw new AccountError('NOT_FOUND', 'account: no such account', 'account');
    const issued = await this.issue(rec.id, label, ttlDays);
    await this.store.batch([issued.op]);
    this.log.info({ accountId: rec.id, tokenId: issued.info.id }, 'token created');
    return { token: issued.token, info: issued.info };
  }

  /**
   * The tokens of `account` (revoked and expired included), oldest first. Scans the token
   * collection: a coordinator-lite has few tokens, and a second index would be one more thing to
   * keep consistent.
   */
  async listTokens(account: Account): Promise<TokenInfo[]> {
    const out: TokenInfo[] = [];
    for await (const [, rec] of this.store.list<TokenRecord>('tokens')) {
      if (rec.accountId === account.id) out.push(toInfo(rec));
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /**
   * Revoke one of `account`'s own tokens. Revoking a revoked token changes nothing.
   * @throws AccountError `NOT_FOUND` for an unknown id and for another account's token (same
   *   message: ids of others' tokens are not confirmed), `INVALID` for a malformed id
   */
  async revokeToken(account: Account, tokenId: string): Promise<void> {
    if (typeof tokenId !== 'string' || !TOKEN_ID_RE.test(tokenId)) {
      throw new AccountError('INVALID', 'tokenId: expected 12 hex characters', 'tokenId');
    }
    await this.store.withLock(`token:${tokenId}`, async () => {
      const rec = await this.store.get<TokenRecord>('tokens', tokenId);
      if (!rec || rec.accountId !== account?.id) {
        throw new AccountError(
          'NOT_FOUND',
          `tokenId: no token ${tokenId} on this account`,
          'tokenId'
        );
      }
      if (rec.revokedAt !== null) return;
      await this.store.put('tokens', tokenId, { ...rec, revokedAt: this.iso() });
      this.log.info({ accountId: rec.accountId, tokenId }, 'token revoked');
    });
  }

  /**
   * Recovery: a one-time code and a new password → a new token; the code is burnt and the
   * password replaced in one write. Existing tokens are left as they are (revoke them with the
   * new token if they may be compromised).
   * @throws AccountError `UNAUTHENTICATED` (unknown name, wrong or used code: one message),
   *   `INVALID` (`newPassword`)
   */
  async recover(
    name: string,
    code: string,
    newPassword: string
  ): Promise<{ token: string; info: TokenInfo; remainingCodes: number }> {
    checkPassword(newPassword, 'newPassword');
    const fail = (): AccountError => new AccountError('UNAUTHENTICATED', BAD_RECOVERY);
    const canonical = typeof name === 'string' ? canonicalName(name) : undefined;
    const id = canonical && (await this.store.get<string>('accountNames', canonical));
    const codeNorm = normalizeRecoveryCode(code);
    if (!id || !codeNorm) throw fail();
    return this.store.withLock(`account:${id}`, async () => {
      const rec = await this.record(id);
      const recovery = await this.store.get<RecoveryRecord>('recovery', id);
      if (!rec || !recovery) throw fail();
      const hash = codeHash(id, codeNorm);
      let index = -1;
      // No early exit: the time does not depend on which code matched.
      recovery.codes.forEach((c, i) => {
        if (safeEqualHex(hash, c.hash) && c.usedAt === null) index = i;
      });
      if (index < 0) {
        this.log.warn({ accountId: id }, 'recovery refused');
        throw fail();
      }
      const now = this.iso();
      const codes = recovery.codes.map((c, i) => (i === index ? { ...c, usedAt: now } : c));
      const passwordHash = await hashPassword(newPassword);
      const issued = await this.issue(id, 'recovery', DEFAULT_TTL_DAYS);
      await this.store.batch([
        { type: 'put', c: 'recovery', key: id, value: { v: 1, codes } satisfies RecoveryRecord },
        { type: 'put', c: 'accounts', key: id, value: { ...rec, passwordHash } },
        issued.op,
      ]);
      const remainingCodes = codes.filter((c) => c.usedAt === null).length;
      this.log.info(
        { accountId: id, tokenId: issued.info.id, remainingCodes },
        'account recovered'
      );
      return { token: issued.token, info: issued.info, remainingCodes };
    });
  }

  /** The account with this id, or `undefined`. */
  async get(id: string): Promise<Account | undefined> {
    const rec = await this.record(id);
    return rec ? toAccount(rec) : undefined;
  }

  /** Validate, hash, check the name is free, and write account + index + codes + first token. */
  private async newAccount(
    input: { name: string; password?: string },
    admin: boolean,
    extra: (accountId: string) => BatchOp[] = () => []
  ): Promise<NewAccount> {
    const name = canonicalName(input?.name);
    if (name === undefined) {
      throw new AccountError(
        'INVALID',
        "name: expected 2..63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
        'name'
      );
    }
    // scrypt before taking the lock: it is the slow part and needs no shared state.
    const passwordHash =
      input.password === undefined
        ? null
        : await hashPassword(checkPassword(input.password, 'password'));
    return this.store.withLock(`name:${name}`, async () => {
      if ((await this.store.get<string>('accountNames', name)) !== undefined) {
        throw new AccountError('CONFLICT', `name: an account named "${name}" exists`, 'name');
      }
      const rec: AccountRecord = {
        v: 1,
        id: randomUUID(),
        name,
        createdAt: this.iso(),
        admin,
        passwordHash,
      };
      const recoveryCodes = newRecoveryCodes();
      const recovery: RecoveryRecord = {
        v: 1,
        codes: recoveryCodes.map((c) => ({ hash: codeHash(rec.id, c), usedAt: null })),
      };
      const issued = await this.issue(rec.id, 'initial', DEFAULT_TTL_DAYS);
      await this.store.batch([
        { type: 'put', c: 'accounts', key: rec.id, value: rec },
        { type: 'put', c: 'accountNames', key: name, value: rec.id },
        { type: 'put', c: 'recovery', key: rec.id, value: recovery },
        issued.op,
        ...extra(rec.id),
      ]);
      this.log.info({ accountId: rec.id, admin, tokenId: issued.info.id }, 'account created');
      return { account: toAccount(rec), token: issued.token, recoveryCodes };
    });
  }

  /** A new token record (not yet written): the caller puts `op` in its batch. */
  private async issue(
    accountId: string,
    label: string,
    ttlDays: number
  ): Promise<{ token: string; info: TokenInfo; op: BatchOp }> {
    let t = newToken();
    // 48-bit ids: a collision is very unlikely, but it would overwrite someone's token record.
    while ((await this.store.get('tokens', t.id)) !== undefined) t = newToken();
    const now = this.now();
    const rec: TokenRecord = {
      v: 1,
      id: t.id,
      accountId,
      label,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlDays * DAY_MS).toISOString(),
      revokedAt: null,
      hash: hashSecret(t.token),
    };
    return {
      token: t.token,
      info: toInfo(rec),
      op: { type: 'put', c: 'tokens', key: t.id, value: rec },
    };
  }

  /** Record a use of a token, at most once per {@link LAST_USED_RESOLUTION_MS}. */
  private async touch(rec: TokenRecord, now: Date): Promise<void> {
    const stale = (r: TokenRecord): boolean =>
      r.lastUsedAt === undefined ||
      now.getTime() - Date.parse(r.lastUsedAt) >= LAST_USED_RESOLUTION_MS;
    if (!stale(rec)) return;
    try {
      await this.store.withLock(`token:${rec.id}`, async () => {
        // Re-read under the lock: a revoke that landed meanwhile must not be overwritten.
        const cur = await this.store.get<TokenRecord>('tokens', rec.id);
        if (!cur || cur.revokedAt !== null || !stale(cur)) return;
        await this.store.put('tokens', rec.id, { ...cur, lastUsedAt: now.toISOString() });
      });
    } catch (err) {
      // Bookkeeping only: the credential was valid, so the request goes on.
      this.log.warn({ err, tokenId: rec.id }, 'could not record token use');
    }
  }

  private async record(id: unknown): Promise<AccountRecord | undefined> {
    if (typeof id !== 'string' || !UUID_RE.test(id)) return undefined;
    return this.store.get<AccountRecord>('accounts', id);
  }

  private async anyAccount(): Promise<boolean> {
    for await (const _ of this.store.list('accounts', { limit: 1 })) return true;
    return false;
  }

  private iso(): string {
    return this.now().toISOString();
  }
}

/**
 * The canonical (lower-case) form of a name, or `undefined` if it breaks the rule. The raw name is
 * checked to be ASCII first: `toLowerCase` maps some non-ASCII letters (the Kelvin sign) to ASCII.
 */
function canonicalName(name: unknown): string | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name)) return undefined;
  const lower = name.toLowerCase();
  return NAME_RE.test(lower) ? lower : undefined;
}

/** A new password: 12..1024 characters (code points). */
function checkPassword(pw: unknown, field: string): string {
  const n = typeof pw === 'string' && pw.length <= 4 * PASSWORD_MAX ? [...pw].length : -1;
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
    throw new AccountError(
      'INVALID',
      `${field}: expected a string of ${PASSWORD_MIN}..${PASSWORD_MAX} characters`,
      field
    );
  }
  return pw as string;
}

function checkTtl(ttlDays: unknown): number {
  if (ttlDays === undefined) return DEFAULT_TTL_DAYS;
  if (
    !Number.isSafeInteger(ttlDays) ||
    (ttlDays as number) < 1 ||
    (ttlDays as number) > MAX_TTL_DAYS
  ) {
    throw new AccountError(
      'INVALID',
      `ttlDays: expected an integer in 1..${MAX_TTL_DAYS}`,
      'ttlDays'
    );
  }
  return ttlDays as number;
}

function checkLabel(label: unknown): string {
  if (typeof label !== 'string' || !LABEL_RE.test(label)) {
    throw new AccountError('INVALID', 'label: expected 1..64 printable characters', 'label');
  }
  return label;
}

/** Recovery-code hash, bound to the account (see `secrets.ts`). */
function codeHash(accountId: string, canonicalCode: string): string {
  return hashSecret(`mpcd/recovery-code/v1:${accountId}:${canonicalCode}`);
}

function expired(rec: TokenRecord, now: Date): boolean {
  return rec.expiresAt !== null && Date.parse(rec.expiresAt) <= now.getTime();
}

function toAccount(rec: AccountRecord): Account {
  return {
    id: rec.id,
    name: rec.name,
    createdAt: rec.createdAt,
    admin: rec.admin,
    hasPassword: rec.passwordHash !== null,
  };
}

function toInfo(rec: TokenRecord): TokenInfo {
  const info: TokenInfo = {
    id: rec.id,
    accountId: rec.accountId,
    label: rec.label,
    createdAt: rec.createdAt,
    expiresAt: rec.expiresAt,
    revokedAt: rec.revokedAt,
  };
  if (rec.lastUsedAt !== undefined) info.lastUsedAt = rec.lastUsedAt;
  return info;
}
