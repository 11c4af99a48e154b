import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AmphiError, type ErrorCode } from '../errors.ts';

/** Maps framework errors (validation, body parsing, limits) onto the catalogue. */
const frameworkCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
};
const byStatus: Record<number, ErrorCode> = { 404: 'ROUTE_NOT_FOUND', 413: 'BODY_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/** Errors that mean the database is unreachable or restarting: retryable, not a bug. */
const unavailableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export function toAmphiError(error: FastifyError | Error): AmphiError {
  if (error instanceof AmphiError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableCodes.has(code)) {
    return new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
  }
  const errcode = (error as { errcode?: unknown }).errcode;
  if (errcode === SQLITE_BUSY || errcode === SQLITE_LOCKED || error.message === 'Connection terminated unexpectedly') {
    return new AmphiError('SERVICE_UNAVAILABLE', { headers: { 'retry-after': '1' } });
  }
  const e = error as Partial<FastifyError>;
  if (e.validation !== undefined) {
    const details = e.validation.map((v) => ({
      field: `${e.validationContext ?? ''}${v.instancePath}`,
      problem: v.message ?? v.keyword,
    }));
    return new AmphiError('VALIDATION_FAILED', { details });
  }
  // Own keys only: a code such as "constructor" must not find Object.prototype's members.
  const mapped = e.code !== undefined && Object.hasOwn(frameworkCodes, e.code) ? frameworkCodes[e.code] : undefined;
  if (mapped !== undefined) return new AmphiError(mapped);
  if (error instanceof SyntaxError) return new AmphiError('INVALID_JSON');
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AmphiError(byStatus[status] ?? 'BAD_REQUEST');
  return new AmphiError('INTERNAL');
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const amphi = toAmphiError(error);
  if (amphi.code === 'INTERNAL') request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
  else if (amphi.status >= 500) {
    // A deliberate refusal (STAGE_BUSY, OVERLOADED, …) says what it was; only a mapped driver error is storage.
    const what = error instanceof AmphiError ? `request refused: ${amphi.code}` : 'storage unavailable';
    request.log.warn({ err: error, code: amphi.code, route: request.routeOptions.url }, what);
  }
  return reply.code(amphi.status).headers(amphi.headers).send(amphi.toBody());
}
