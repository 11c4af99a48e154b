/**
 * Connections answered without Node's HTTP server: a listener's held `live.mp4` stream costs the edge
 * a socket for as long as the Space lasts, and Node's server keeps a parser, a request and a response
 * object with every socket it owns (about 15 KB each, measured). A new connection's first bytes are
 * looked at once: a complete, plain `GET`/`HEAD` request head that the raw door takes is answered on
 * the bare socket; anything else (a partial head, a body, pipelined bytes, an unusual header, a
 * request the door does not take) goes to the HTTP server untouched, exactly as if it had accepted
 * the connection itself (Node documents injecting connections with its `connection` event).
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';

/** A request head read off a fresh connection: method, target and headers (names lower-cased). */
export interface RawRequest {
  readonly method: 'GET' | 'HEAD';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Takes a connection's first request, answering it on the socket; false leaves it to the HTTP server. */
export type RawDoor = (socket: Socket, request: RawRequest) => boolean;

/** The longest head looked at; longer ones go to the HTTP server (and its 16 KB header limit). */
const MAX_HEAD_BYTES = 8192;
const REQUEST_LINE = /^(GET|HEAD) (\/[\x21-\x7e]*) HTTP\/1\.[01]$/;
const HEADER = /^([!#$%&'*+.^`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\t]*?)[ \t]*$/;
/** Headers that would make the raw answer differ from what the HTTP server does with them. */
const DECLINED = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);

/**
 * Parses one complete request head that is all of `chunk` (nothing after the blank line): a request
 * without a body, as players send. Anything unusual returns undefined (the HTTP server decides).
 */
export function parseRequestHead(chunk: Buffer): RawRequest | undefined {
  if (chunk.length > MAX_HEAD_BYTES || chunk.length < 4) return undefined;
  // The head ends exactly where the chunk does: nothing pipelined behind it.
  if (chunk.indexOf('\r\n\r\n') !== chunk.length - 4) return undefined;
  const lines = chunk.toString('latin1', 0, chunk.length - 4).split('\r\n');
  const line = REQUEST_LINE.exec(lines[0]!);
  if (line === null) return undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const header = HEADER.exec(lines[i]!);
    if (header === null) return undefined; // obs-fold, bare LF, controls: the HTTP server's call
    const name = header[1]!.toLowerCase();
    if (DECLINED.has(name)) return undefined;
    headers[name] = name in headers ? `${headers[name]}, ${header[2]}` : header[2]!;
  }
  return { method: line[1] as 'GET' | 'HEAD', url: line[2]!, headers };
}

/**
 * Puts `door` in front of `server`: each new connection's first chunk is offered to it once, within
 * `headersTimeoutMs` (a connection that sends nothing by then is closed, as the HTTP server would).
 * Call before the server listens; the server's own handling of connections is otherwise unchanged.
 */
export function rawDoorInFront(server: Server, door: RawDoor, headersTimeoutMs: number): void {
  const original = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const handOver = (socket: Socket, chunk: Buffer | undefined) => {
    socket.pause();
    if (chunk !== undefined) socket.unshift(chunk);
    for (const listener of original) listener.call(server, socket);
    socket.resume();
  };
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), headersTimeoutMs);
    const first = (chunk: Buffer) => {
      clearTimeout(timer);
      socket.removeListener('data', first);
      socket.removeListener('error', failed);
      const request = parseRequestHead(chunk);
      socket.pause(); // nothing more is read until the socket's owner is decided
      if (request !== undefined && door(socket, request)) return;
      handOver(socket, chunk);
    };
    const failed = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', first);
    socket.on('error', failed);
  });
}

/** A complete answer written on a raw socket, then the connection closed (the door's refusals). */
export function rawAnswer(socket: Socket, status: number, headers: readonly string[], body: Uint8Array | undefined): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += 'connection: close\r\n\r\n';
  if (body === undefined) socket.end(head);
  else {
    socket.write(head);
    socket.end(body);
  }
}
