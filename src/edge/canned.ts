import { AmphiError, type ErrorCode } from '../errors.ts';

interface Canned {
  readonly status: number;
  readonly headers: string[];
  readonly body: Buffer;
}
const canned = new Map<ErrorCode, Canned>();

/** A catalogue error as the listener door answers it: JSON, open to any origin, its own headers (Retry-After). */
export function errorAnswer(e: AmphiError): Canned {
  const body = Buffer.from(JSON.stringify(e.toBody()));
  const own = Object.entries(e.headers).flat();
  return {
    status: e.status,
    headers: [
      ...own,
      'content-type',
      'application/json; charset=utf-8',
      'access-control-allow-origin',
      '*',
      'content-length',
      String(body.length),
    ],
    body,
  };
}

/** The catalogue's JSON answer for a code, built once. */
export function cannedRefusal(code: ErrorCode): Canned {
  let c = canned.get(code);
  if (c === undefined) {
    c = errorAnswer(
      new AmphiError(
        code,
        code === 'VALIDATION_FAILED' ? { details: [{ field: 'url', problem: 'not a valid listener URL' }] } : {},
      ),
    );
    canned.set(code, c);
  }
  return c;
}
