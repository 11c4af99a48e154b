import { createHash } from 'node:crypto';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import type { Account, Store } from '../storage/store.ts';
import { newId, newSecret } from '../lib/ids.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface AccountsOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly sessionTtlSeconds: number;
  readonly passwordHashCostLog2: number;
}

export interface SignedIn {
  readonly account: Account;
  readonly token: string;
  readonly expiresAt: number;
}

/** How long a session lookup is trusted before the database is asked again. */
const SESSION_CACHE_MS = 5_000;

/**
 * Accounts and sessions. A session token is a random secret handed to the client once; only its
 * SHA-256 is stored, so a database leak does not leak sessions.
 */
export class Accounts {
  readonly #o: AccountsOptions;
  readonly #sessions: TtlCache<string, Account | undefined>;
  /** Verified against when the handle is unknown, so timing does not reveal which handles exist. */
  #dummyHash: Promise<string> | undefined;

  constructor(options: AccountsOptions) {
    this.#o = options;
    this.#sessions = new TtlCache(options.clock, SESSION_CACHE_MS, 50_000);
  }

  async signUp(handle: string, password: string): Promise<SignedIn> {
    const now = this.#o.clock.now();
    const passwordHash = await hashPassword(password, this.#o.passwordHashCostLog2);
    const account = await this.#o.store.createAccount({ id: newId('ac'), handle, passwordHash, createdAt: now });
    if (account === undefined) throw new AmphiError('HANDLE_TAKEN');
    return this.#openSession(account);
  }

  async signIn(handle: string, password: string): Promise<SignedIn> {
    const found = await this.#o.store.findAccountByHandle(handle);
    if (found === undefined) {
      this.#dummyHash ??= hashPassword('not a password', this.#o.passwordHashCostLog2);
      await verifyPassword(password, await this.#dummyHash);
      throw new AmphiError('INVALID_CREDENTIALS');
    }
    if (!(await verifyPassword(password, found.passwordHash))) throw new AmphiError('INVALID_CREDENTIALS');
    return this.#openSession({ id: found.id, handle: found.handle, createdAt: found.createdAt });
  }

  async signOut(token: string): Promise<void> {
    const tokenHash = hashToken(token);
    this.#sessions.delete(tokenHash);
    await this.#o.store.deleteSession(tokenHash);
  }

  /** The account behind a session token, or undefined when it is unknown or expired. */
  authenticate(token: string): Promise<Account | undefined> {
    const tokenHash = hashToken(token);
    return this.#sessions.getOrLoad(tokenHash, async () => {
      const session = await this.#o.store.findSession(tokenHash, this.#o.clock.now());
      return session === undefined ? undefined : this.#o.store.getAccount(session.accountId);
    });
  }

  async findByHandle(handle: string): Promise<Account | undefined> {
    const found = await this.#o.store.findAccountByHandle(handle);
    return found === undefined ? undefined : { id: found.id, handle: found.handle, createdAt: found.createdAt };
  }

  getAccount(id: string): Promise<Account | undefined> {
    return this.#o.store.getAccount(id);
  }

  /** Deletes sessions that have expired; returns how many. */
  deleteExpiredSessions(): Promise<number> {
    return this.#o.store.deleteExpiredSessions(this.#o.clock.now());
  }

  async #openSession(account: Account): Promise<SignedIn> {
    const token = newSecret();
    const now = this.#o.clock.now();
    const expiresAt = now + this.#o.sessionTtlSeconds * 1000;
    await this.#o.store.createSession({ tokenHash: hashToken(token), accountId: account.id, createdAt: now, expiresAt });
    return { account, token, expiresAt };
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
