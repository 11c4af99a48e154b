/**
 * A listener's held `live.mp4` response: on a connection Node's HTTP server accepted (the door in
 * http.ts), or on a bare socket when it is the connection's first request (the raw door here, which
 * keeps no HTTP server objects for the hours a stream lasts).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.ts';
import type { RecordResponse } from '../lib/http-app.ts';
import { toAmphiError } from '../lib/http-errors.ts';
import type { Logger } from '../lib/logger.ts';
import { rawAnswer, type RawDoor, type RawRequest } from '../lib/raw-request.ts';
import type { RateLimiter } from '../lib/token-bucket.ts';
import { cannedRefusal, errorAnswer } from './canned.ts';
import type { Edge } from './edge.ts';

/**
 * `live.mp4` as a connection's first request, held on the bare socket (no HTTP server objects kept
 * for hours): the same checks, in the same order, with the same answers and metrics as the door's.
 * Any other request on a fresh connection is left to the HTTP server.
 */
export function rawStreamDoor(
  edge: Edge,
  o: {
    readonly addressOf: (req: IncomingMessage) => string;
    readonly perAddress: RateLimiter;
    readonly perToken: RateLimiter;
    readonly streaming: WeakSet<Socket>;
    readonly record: RecordResponse;
    readonly log: Logger;
    readonly listenerPath: RegExp;
    readonly route: string;
    readonly streamRoute: string;
  },
): RawDoor {
  const refuse = (socket: Socket, method: string, started: number, code: ErrorCode, retryAfterS?: number) => {
    const c = cannedRefusal(code);
    rawAnswer(
      socket,
      c.status,
      retryAfterS === undefined ? c.headers : [...c.headers, 'retry-after', String(retryAfterS)],
      c.body,
    );
    o.record(o.route, method, c.status, (performance.now() - started) / 1000);
  };
  return (socket: Socket, request: RawRequest): boolean => {
    const match = o.listenerPath.exec(request.url);
    if (match === null || match[3] !== 'live.mp4') return false;
    const started = performance.now();
    const [, token, spaceId] = match as unknown as [string, string, string];
    const { method } = request;
    socket.on('error', () => socket.destroy());
    const address = o.addressOf({ socket, headers: request.headers } as unknown as IncomingMessage);
    const byAddress = o.perAddress.take(address);
    if (!byAddress.ok) refuse(socket, method, started, 'RATE_LIMITED', Math.ceil(byAddress.retryAfterMs / 1000));
    else if (!edge.accepts(token, spaceId)) refuse(socket, method, started, 'LISTENER_TOKEN_INVALID');
    else {
      const byToken = o.perToken.take(token);
      if (!byToken.ok) refuse(socket, method, started, 'RATE_LIMITED', Math.ceil(byToken.retryAfterMs / 1000));
      else
        holdStream(edge, socket, method, { token, spaceId, address }, o.streaming).then(
          (written) => {
            if (written) o.record(o.streamRoute, method, 200, (performance.now() - started) / 1000);
          },
          (error: unknown) => {
            const e = toAmphiError(error instanceof Error ? error : new Error(String(error)));
            if (e.code === 'INTERNAL') o.log.error({ err: error, route: o.streamRoute }, 'listener request failed');
            const answer = errorAnswer(e);
            rawAnswer(socket, answer.status, answer.headers, answer.body);
            o.record(o.streamRoute, method, e.status, (performance.now() - started) / 1000);
          },
        );
    }
    // Reading again: a hang-up is seen at once (the server allows half-open sockets: end it here);
    // bytes sent on a held stream end it too (the connection is not shared).
    socket.on('data', () => socket.destroy());
    socket.on('end', () => socket.destroy());
    socket.resume();
    return true;
  };
}

/**
 * `live.mp4`: the socket now belongs to this listener's held stream (nothing else may be answered on
 * it), the head goes out when the stream is ready, then each part as the program makes it. Resolves
 * true once the head is written (false if the listener left first); rejects, before any byte, when
 * the stream cannot open.
 */
export async function holdStream(
  edge: Edge,
  socket: Socket,
  method: string,
  who: { readonly token: string; readonly spaceId: string; readonly address: string },
  streaming: WeakSet<Socket>,
): Promise<boolean> {
  streaming.add(socket);
  socket.once('close', () => streaming.delete(socket));
  let opened;
  try {
    opened = await edge.openStream(who.token, who.spaceId, who.address);
  } catch (error) {
    streaming.delete(socket); // refused (too many streams, the Space over): the connection may serve again
    throw error;
  }
  if (socket.destroyed) {
    opened.close(); // the listener left while the stream was starting: its slot is free again
    return false;
  }
  socket.once('close', () => opened.close());
  socket.setNoDelay(true);
  // Close-delimited body: each part is then exactly one write of the shared buffer.
  socket.write(
    'HTTP/1.1 200 OK\r\ncontent-type: audio/mp4\r\ncache-control: no-store\r\nconnection: close\r\n' +
      'access-control-allow-origin: *\r\naccess-control-expose-headers: amphi-program-epoch-ms, amphi-stream-write-ms\r\n' +
      `amphi-program-epoch-ms: ${Math.round(opened.epochMs)}\r\namphi-stream-write-ms: ${opened.writeIntervalMs}\r\n\r\n`,
  );
  if (method === 'HEAD') {
    socket.end();
    opened.close();
    return true;
  }
  const sink = {
    write: (chunk: Uint8Array) => void socket.write(chunk),
    get pendingBytes() {
      return socket.writableLength;
    },
    end: () => socket.end(),
  };
  opened.subscribe(sink);
  return true;
}
