/**
 * The lean join: `POST /api/spaces/:id/join` answered on Node's raw request before Fastify, as the
 * listener door answers `/l/…` (edge/http.ts). A join is the busiest write, and Fastify's per-request
 * machinery (routing, hooks, cookie parsing, body parser, validator, serialiser, reply object) cost
 * about as much as the join itself. Only the plain case is answered here; the Fastify route stays the
 * one description of the join (OpenAPI, inject tests) and answers everything else:
 *
 * - before the body is read: another method or path, a query string, a Space id that is not an id,
 *   a body that is chunked, too large, or not `application/json`, and any session cookie (the
 *   cross-site guard and cookie sessions are the framework's);
 * - after it is read: a body this file does not accept as a plain `JoinBody` (bad JSON, a wrong
 *   type, an unknown key, a value out of bounds, `__proto__`): the framework gets the same bytes
 *   again (`replayJoinBody`, its preParsing hook) and answers with its own parser's and validator's
 *   errors, word for word.
 *
 * What is answered here runs the route's own code (`joiner`), authenticates a bearer token as the
 * route does, reads the address by the same `server.trustProxy` policy, writes the catalogue's errors
 * as the error handler does, and records the same HTTP metrics under the route's name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Admission } from '../../admission/plane.ts';
import type { Config } from '../../config/schema.ts';
import { clientAddress } from '../../lib/client-address.ts';
import type { Door, RecordResponse } from '../../lib/http-app.ts';
import { toAmphiError } from '../../lib/http-errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ControlMetrics } from '../metrics.ts';
import type { ControlPlane } from '../plane.ts';
import { RequestAuth, SESSION_COOKIE } from './auth.ts';
import { joiner, type JoinAnswer, type JoinInput } from './join.ts';

export const JOIN_ROUTE = '/api/spaces/:id/join';
/** The route's path with a Space id as `SpaceParams` accepts it (no query: queries go to the framework). */
const JOIN_PATH = /^\/api\/spaces\/([a-z]{2}_[A-Za-z0-9_-]{12})\/join$/;
/** JSON as clients send it (what else the framework's parser takes, it parses itself). */
const isJson = (type: string) => type.toLowerCase() === 'application/json' || type === 'application/json; charset=utf-8';
const CLIENT = /^[A-Za-z0-9_-]{16,64}$/;
const JSON_HEADER = 'application/json; charset=utf-8';

export interface JoinDoorOptions {
  readonly plane: ControlPlane;
  readonly admission: Admission;
  readonly metrics: ControlMetrics;
  readonly config: Readonly<Pick<Config, 'admission' | 'server' | 'auth'>>;
  readonly log: Logger;
  readonly record?: RecordResponse | undefined;
  /** The framework's own entry (`app.routing`): what the door does not answer, it hands on here. */
  readonly framework: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Bodies the door read and then handed on: the framework's preParsing hook reads them again. */
const readBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * The join route's preParsing hook: a body the door already read (and handed on) is replayed, so the
 * framework parses and validates the very bytes the client sent. Anything else passes untouched.
 */
export function replayJoinBody(request: { readonly raw: IncomingMessage }, payload: Readable): Readable {
  const body = readBodies.get(request.raw);
  if (body === undefined) return payload;
  readBodies.delete(request.raw);
  return Readable.from([body]);
}

export function joinDoor(o: JoinDoorOptions): Door {
  const join = joiner(o);
  const auth = new RequestAuth(o.plane.accounts, o.config.auth.secureCookies);
  const addressOf = clientAddress(o.config.server.trustProxy);
  const limit = o.config.admission.limits.maxBodyBytes;
  const record = o.record ?? (() => {});

  const answer = (
    res: ServerResponse,
    started: number,
    status: number,
    headers: Readonly<Record<string, string>>,
    json: string,
  ) => {
    const length = String(Buffer.byteLength(json));
    res.writeHead(status, { ...headers, 'content-type': JSON_HEADER, 'content-length': length });
    res.end(json);
    record(JOIN_ROUTE, 'POST', status, (performance.now() - started) / 1000);
  };
  const refuse = (res: ServerResponse, started: number, error: unknown) => {
    const e = toAmphiError(error instanceof Error ? error : new Error(String(error)));
    // As the framework's error handler: a bug is an error, a deliberate 5xx a warning.
    if (e.code === 'INTERNAL') o.log.error({ err: error, route: JOIN_ROUTE }, 'request failed');
    else if (e.status >= 500) o.log.warn({ err: error, code: e.code, route: JOIN_ROUTE }, `request refused: ${e.code}`);
    answer(res, started, e.status, e.headers, JSON.stringify(e.toBody()));
  };
  const run = async (req: IncomingMessage, res: ServerResponse, started: number, spaceId: string, body: JoinInput) => {
    try {
      const authorization = req.headers.authorization;
      const actor = authorization === undefined ? undefined : await auth.optionalBearer(authorization);
      const result: JoinAnswer = await join({ actor, spaceId, body, address: addressOf(req) });
      answer(res, started, result.status, {}, JSON.stringify(result.body));
    } catch (error) {
      refuse(res, started, error);
    }
  };

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const match = JOIN_PATH.exec(req.url ?? '');
    if (match === null) return false;
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined || h.cookie?.includes(SESSION_COOKIE) === true) return false;
    const length = h['content-length'];
    const type = h['content-type'];
    const empty = length === undefined || length === '0';
    if (type === undefined ? !empty : !isJson(type) || empty) return false;
    if (!empty && !(/^[0-9]{1,9}$/.test(length) && Number(length) <= limit)) return false;
    const started = performance.now();
    const spaceId = match[1]!;
    if (type === undefined) {
      req.resume();
      void run(req, res, started, spaceId, {});
      return true;
    }
    const chunks: Buffer[] = [];
    const data = (chunk: Buffer) => chunks.push(chunk);
    const failed = (error: Error) => {
      req.removeListener('data', data);
      // As the framework's body reader: a broken upload is a 400, and the connection is not reused.
      if (res.headersSent) return;
      res.setHeader('connection', 'close');
      refuse(res, started, Object.assign(error, { statusCode: 400 }));
    };
    req.on('data', data);
    req.once('error', failed);
    req.once('end', () => {
      // The body is read: from here the request is the join's (or the framework's), not this reader's.
      req.removeListener('data', data);
      req.removeListener('error', failed);
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const body = plainJoinBody(raw);
      if (body !== undefined) {
        void run(req, res, started, spaceId, body);
        return;
      }
      readBodies.set(req, raw);
      o.framework(req, res);
    });
    return true;
  };
}

/**
 * The body when it is a plain, valid `JoinBody` (an object of known keys with values in bounds, or
 * null); undefined for anything else, which the framework then parses and validates itself. Accepts a
 * subset of what the schema accepts: string lengths are counted in UTF-16 units, never fewer than the
 * validator's code points, and nothing is coerced.
 */
export function plainJoinBody(raw: Buffer): JoinInput | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    const v = o[key];
    const ok =
      key === 'token'
        ? text(v, 4096)
        : key === 'ticket'
          ? text(v, 1024)
          : key === 'client'
            ? typeof v === 'string' && CLIENT.test(v)
            : key === 'pow' && plainPow(v);
    if (!ok) return undefined;
  }
  return o;
}

function text(v: unknown, maxLength: number): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= maxLength;
}

function plainPow(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const p = v as Record<string, unknown>;
  return keys.length === 2 && text(p.challenge, 1024) && text(p.solution, 64);
}
