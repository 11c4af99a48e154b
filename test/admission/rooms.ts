import { MemoryLineStore } from '../../src/admission/line-store.ts';
import { WaitingRoom, WaitingRooms, type TicketPolicy } from '../../src/admission/tickets.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { TokenSigner } from '../../src/lib/signed-token.ts';

/** Shared by the waiting-room tests: one signer, a 10 s TTL, an hour's signed wait. */
export const signer = new TokenSigner([{ id: 'k1', secret: 'x'.repeat(40) }]);
export const policy: TicketPolicy = { ticketTtlMs: 10_000, ticketMaxWaitMs: 3_600_000, etaHalfLifeMs: 10_000 };

/** A room on a manual clock at 0, in its own memory store, whose admission rate the test sets. */
export function makeRoom(ratePerSecond: number, spaceId = 'sp_1', overrides: Partial<TicketPolicy> = {}) {
  const clock = new ManualClock(0);
  const store = new MemoryLineStore(clock);
  let rate = ratePerSecond;
  const room = new WaitingRoom({
    spaceId,
    clock,
    signer,
    store,
    policy: { ...policy, ...overrides },
    releasePerSecond: () => rate,
  });
  return {
    clock,
    store,
    /** What the room's line remembers, in bytes (used numbers, come-up times). */
    footprintBytes: () => store.footprintBytes(spaceId),
    room,
    setRate: (r: number) => {
      rate = r;
    },
  };
}

/** Rooms in one memory store on `clock`, sharing `perSecond` joins/s; a failed delete fails the test. */
export function makeRooms(clock: ManualClock, perSecond: number): WaitingRooms {
  const onError = (error: unknown) => {
    throw error;
  };
  return new WaitingRooms({
    clock,
    signer,
    store: new MemoryLineStore(clock),
    policy,
    releasePerSecond: () => perSecond,
    onError,
  });
}

/** Re-encodes a token's payload with a change, keeping the old signature. */
export function tamper(token: string, change: (claims: Record<string, unknown>) => void): string {
  const mac = token.split('.')[1] ?? '';
  const claims = readClaims(token);
  change(claims);
  return `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
}

/** The readable payload of a signed token. */
export function readClaims(token: string): Record<string, unknown> {
  const [body] = token.split('.') as [string];
  return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
}
