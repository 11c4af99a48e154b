import { createHash, randomBytes } from 'node:crypto';
import { AmphiError } from '../errors.ts';
import type { Clock } from '../lib/clock.ts';
import { TtlCache } from '../lib/ttl-cache.ts';
import type { Account, Store, SystemRole } from '../storage/store.ts';
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
 * Handles nobody may sign up with, compared case-insensitively: names that would pass for the
 * service itself or its staff. The service's own accounts are told apart by a mark in the database
 * (`systemAccount`), never by these names.
 */
export const RESERVED_HANDLES: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'amphi',
  'amphi_demo',
  'moderator',
  'root',
  'security',
  'staff',
  'support',
  'system',
]);

export function isReservedHandle(handle: string): boolean {
  return RESERVED_HANDLES.has(handle.toLowerCase());
}

/** A system account, and whether a user held its preferred handle (so it took another). */
export interface SystemAccount {
  readonly account: Account;
  readonly handleWasTaken: boolean;
}

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
    if (isReservedHandle(handle)) throw new AmphiError('HANDLE_RESERVED');
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
    // Told only to whoever knows the password: a suspension is not announced to strangers.
    if ((await this.#o.store.community().getProfile(found.id))?.suspendedAt != null) throw new AmphiError('ACCOUNT_SUSPENDED');
    return this.#openSession({ id: found.id, handle: found.handle, createdAt: found.createdAt });
  }

  /** Forgets every session this node cached (an account was suspended: its sessions must fail at once). */
  forgetSessions(): void {
    this.#sessions.clear();
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

  /** The scheduled Spaces this account asked to be reminded of (ids, soonest first; at most `limit`). */
  reminders(account: Account, limit: number): Promise<string[]> {
    return this.#o.store.listRemindedSpaces(account.id, limit);
  }

  async findByHandle(handle: string): Promise<Account | undefined> {
    const found = await this.#o.store.findAccountByHandle(handle);
    return found === undefined ? undefined : { id: found.id, handle: found.handle, createdAt: found.createdAt };
  }

  /**
   * The account the service uses for `role` (the demo's host), made on first use with a secret
   * nobody knows. Found by its mark, never by its handle: an account a user registered under that
   * handle (before it was reserved) is never used; the service then takes `<handle>_<random>`.
   */
  async systemAccount(role: SystemRole, handle: string): Promise<SystemAccount> {
    const existing = await this.#o.store.findSystemAccount(role);
    if (existing !== undefined) return { account: existing, handleWasTaken: false };
    const passwordHash = await hashPassword(newSecret(), this.#o.passwordHashCostLog2);
    const make = (h: string) =>
      this.#o.store.createAccount({ id: newId('ac'), handle: h, passwordHash, createdAt: this.#o.clock.now() }, role);
    const account = await make(handle);
    if (account !== undefined) return { account, handleWasTaken: false };
    // Another process may have made it meanwhile; otherwise a user holds the handle.
    const raced = await this.#o.store.findSystemAccount(role);
    if (raced !== undefined) return { account: raced, handleWasTaken: false };
    const other = await make(`${handle}_${randomBytes(4).toString('hex')}`);
    if (other === undefined) throw new Error(`could not create the ${role} account`);
    return { account: other, handleWasTaken: true };
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
