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

export function toAmphiError(error: FastifyError | Error): AmphiError {
  if (error instanceof AmphiError) return error;
  const e = error as Partial<FastifyError>;
  if (e.validation !== undefined) {
    const details = e.validation.map((v) => ({
      field: `${e.validationContext ?? ''}${v.instancePath}`,
      problem: v.message ?? v.keyword,
    }));
    return new AmphiError('VALIDATION_FAILED', { details });
  }
  const mapped = e.code === undefined ? undefined : frameworkCodes[e.code];
  if (mapped !== undefined) return new AmphiError(mapped);
  if (error instanceof SyntaxError) return new AmphiError('INVALID_JSON');
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AmphiError(byStatus[status] ?? 'BAD_REQUEST');
  return new AmphiError('INTERNAL');
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const amphi = toAmphiError(error);
  if (amphi.status >= 500) request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
  return reply.code(amphi.status).headers(amphi.headers).send(amphi.toBody());
}
