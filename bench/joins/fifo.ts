/**
 * The flash-crowd drill's FIFO checks, on what the clients saw: fed every join answer, line answer and
 * refused exchange as it happens (with the times it was sent and received), it counts the violations.
 * Pure: no sockets, no clock; the times come in with the events.
 *
 * - numberOrder: a join sent after another client's 202 had arrived got a lower (or equal) number;
 * - lineJump: a direct 200 (token without a ticket) to a join sent after a ticket numbered m had
 *   arrived, while a line answer fetched after that 200 still shows nowServing < m (someone jumped);
 * - servingRegressed: a line answer, fetched after an earlier one had arrived, shows a lower nowServing;
 * - notYetAfterComeUp: an exchange refused as not yet (202) after the line showed nowServing >= number;
 * - comeUpOrder: a lower number first seen come up later than a higher number's come-up by more than
 *   the observation granularity.
 */

export interface FifoCounts {
  numberOrder: number;
  lineJump: number;
  servingRegressed: number;
  notYetAfterComeUp: number;
  comeUpOrder: number;
}

export class FifoChecker {
  readonly counts: FifoCounts = { numberOrder: 0, lineJump: 0, servingRegressed: 0, notYetAfterComeUp: 0, comeUpOrder: 0 };
  #highestNumber = 0;
  /** The highest nowServing seen so far, and when the answer that showed it arrived. */
  #servingFloor = { value: -1, at: 0 };
  /** Direct 200s still to check against a later line answer: m, a number that was waiting, at the 200's arrival. */
  #jumpChecks: { m: number; at: number }[] = [];

  /** The highest ticket number any 202 has brought so far: read it when sending a join. */
  get highestNumber(): number {
    return this.#highestNumber;
  }

  /** A join sent when `highestAtSend` was the highest number out was answered with a token at `at`. */
  token(highestAtSend: number, at: number): void {
    if (highestAtSend > 0) this.#jumpChecks.push({ m: highestAtSend, at });
  }

  /** A join sent when `highestAtSend` was the highest number out was answered with ticket `number`. */
  ticket(number: number, highestAtSend: number): void {
    if (number <= highestAtSend) this.counts.numberOrder++;
    this.#highestNumber = Math.max(this.#highestNumber, number);
  }

  /** A line answer showing `nowServing`, fetched at `sentAt`, arrived at `receivedAt`. */
  line(sentAt: number, receivedAt: number, nowServing: number): void {
    if (sentAt > this.#servingFloor.at && nowServing < this.#servingFloor.value) this.counts.servingRegressed++;
    if (nowServing > this.#servingFloor.value) this.#servingFloor = { value: nowServing, at: receivedAt };
    if (this.#jumpChecks.length === 0) return;
    this.#jumpChecks = this.#jumpChecks.filter((c) => {
      if (c.at >= sentAt) return true; // this answer may predate the 200: keep the check
      if (nowServing < c.m) this.counts.lineJump++;
      return false;
    });
  }

  /** An exchange refused as "not yet" after the line had shown its number come up. */
  notYet(): void {
    this.counts.notYetAfterComeUp++;
  }

  /**
   * At the end: for the tickets seen come up (`seenAt`), a lower number seen later than any higher
   * number by more than `granularityMs`.
   */
  comeUpOrder(tickets: readonly { readonly number: number; readonly seenAt: number | undefined }[], granularityMs: number): void {
    const seen = tickets.filter((c) => c.seenAt !== undefined).sort((a, b) => b.number - a.number);
    let minHigher = Infinity;
    for (const c of seen) {
      if (c.seenAt! > minHigher + granularityMs) this.counts.comeUpOrder++;
      minHigher = Math.min(minHigher, c.seenAt!);
    }
  }
}
