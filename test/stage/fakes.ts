import { pino } from 'pino';
import { ManualClock, type Clock, type TimerHandle } from '../../src/lib/clock.ts';
import { TypedEmitter } from '../../src/lib/typed-emitter.ts';
import { StageRoom, type StageSession } from '../../src/stage/room.ts';
import type { SessionEvents } from '../../src/stage/session.ts';
import { rethrow } from '../helpers/events.ts';

/**
 * A speaker session without a network. It records what the room sends and why it was closed. A real
 * session reports 'closed' once its transport is down, later than `close()`: with `closesLater`, the
 * test says when, with `finishClose()`.
 */
export class FakeSession extends TypedEmitter<SessionEvents> implements StageSession {
  readonly id: string;
  readonly receivesAudio: boolean;
  readonly sent: Uint8Array[] = [];
  readonly #closesLater: boolean;
  closedWith: string | undefined;

  constructor(id: string, options: { receivesAudio?: boolean; closesLater?: boolean } = {}) {
    super(rethrow);
    this.id = id;
    this.receivesAudio = options.receivesAudio ?? true;
    this.#closesLater = options.closesLater ?? false;
  }

  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }

  close(reason = 'closed'): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    if (!this.#closesLater) this.finishClose();
  }

  finishClose(): void {
    this.emit('closed', { reason: this.closedWith ?? 'closed' });
  }
}

/** A manual clock that knows which timers are still pending, so a test can see that nothing is left behind. */
export class TrackingClock extends ManualClock {
  readonly #pending = new Set<number>();

  override setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const handle = super.setTimeout(() => {
      this.#pending.delete(handle.id);
      fn();
    }, delayMs);
    this.#pending.add(handle.id);
    return handle;
  }

  override clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle.id);
    super.clearTimeout(handle);
  }

  get pendingTimers(): number {
    return this.#pending.size;
  }
}

/** A room on the test clock (48 kb/s program, 32 kb/s returns) that records the ids it reports closed. */
export function quietRoom(clock: Clock, spaceId: string): { room: StageRoom; closed: string[] } {
  const closed: string[] = [];
  const room = new StageRoom({
    spaceId,
    clock,
    log: pino({ level: 'silent' }),
    programBitrateBps: 48_000,
    returnBitrateBps: 32_000,
    onListenerError: rethrow,
    onClosed: (id) => closed.push(id),
  });
  return { room, closed };
}
