import { AmphiError, type ErrorCode } from '../errors.ts';

interface Canned {
  readonly status: number;
  readonly headers: string[];
  readonly body: Buffer;
}
const canned = new Map<ErrorCode, Canned>();

/** The catalogue's JSON answer for a code, built once. */
export function cannedRefusal(code: ErrorCode): Canned {
  let c = canned.get(code);
  if (c === undefined) {
    const e = new AmphiError(
      code,
      code === 'VALIDATION_FAILED' ? { details: [{ field: 'url', problem: 'not a valid listener URL' }] } : {},
    );
    const body = Buffer.from(JSON.stringify(e.toBody()));
    c = {
      status: e.status,
      headers: [
        'content-type',
        'application/json; charset=utf-8',
        'access-control-allow-origin',
        '*',
        'content-length',
        String(body.length),
      ],
      body,
    };
    canned.set(code, c);
  }
  return c;
}
