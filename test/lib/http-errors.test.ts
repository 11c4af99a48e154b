import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { AmphiError } from '../../src/errors.ts';
import { createHttpApp } from '../../src/lib/http-app.ts';
import { toAmphiError } from '../../src/lib/http-errors.ts';

/** An error carrying the extra fields drivers and the framework attach (code, errcode, statusCode...). */
function errorWith(fields: Record<string, unknown>, message = 'boom'): Error {
  return Object.assign(new Error(message), fields);
}

describe('toAmphiError', () => {
  test('an error code named like an Object.prototype member is an ordinary internal error', () => {
    for (const code of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(toAmphiError(errorWith({ code })).code, 'INTERNAL', code);
    }
  });

  test('passes an AmphiError through unchanged', () => {
    const original = new AmphiError('SPACE_NOT_FOUND');
    assert.equal(toAmphiError(original), original);
  });

  test('every network and PostgreSQL "unavailable" code becomes a retryable 503', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']) {
      const e = toAmphiError(errorWith({ code }));
      assert.equal(e.code, 'SERVICE_UNAVAILABLE', code);
      assert.equal(e.status, 503, code);
      assert.deepEqual(e.headers, { 'retry-after': '1' }, code);
    }
  });

  test('SQLite busy/locked and a dropped PostgreSQL connection become a retryable 503', () => {
    const cases = [errorWith({ errcode: 5 }), errorWith({ errcode: 6 }), new Error('Connection terminated unexpectedly')];
    for (const error of cases) {
      const e = toAmphiError(error);
      assert.equal(e.code, 'SERVICE_UNAVAILABLE', error.message);
      assert.deepEqual(e.headers, { 'retry-after': '1' });
    }
  });

  test('other driver errors are internal, not retryable', () => {
    for (const error of [errorWith({ code: 'ENOENT' }), errorWith({ errcode: 7 }), errorWith({ code: 42 }), new Error('x')]) {
      const e = toAmphiError(error);
      assert.equal(e.code, 'INTERNAL');
      assert.equal(e.status, 500);
      assert.deepEqual(e.headers, {});
    }
  });

  test('schema failures list each failing field and why', () => {
    const e = toAmphiError(
      errorWith({
        validationContext: 'body',
        validation: [
          { instancePath: '/title', keyword: 'maxLength', message: 'must NOT have more than 80 characters' },
          { instancePath: '/when', keyword: 'format' },
        ],
      }),
    );
    assert.equal(e.code, 'VALIDATION_FAILED');
    assert.deepEqual(e.details, [
      { field: 'body/title', problem: 'must NOT have more than 80 characters' },
      { field: 'body/when', problem: 'format' },
    ]);
    const bare = toAmphiError(errorWith({ validation: [{ instancePath: '/x', keyword: 'type', message: 'must be string' }] }));
    assert.deepEqual(bare.details, [{ field: '/x', problem: 'must be string' }]);
  });

  test('framework body errors map by their code alone', () => {
    const expected = {
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
      FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
      FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
      FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
    };
    for (const [code, amphi] of Object.entries(expected)) assert.equal(toAmphiError(errorWith({ code })).code, amphi, code);
  });

  test('a JSON SyntaxError is INVALID_JSON', () => {
    const e = toAmphiError(new SyntaxError('Unexpected token'));
    assert.equal(e.code, 'INVALID_JSON');
    assert.equal(e.status, 400);
  });

  test('client-error statuses keep their meaning; anything else is internal', () => {
    const byStatus: [number | undefined, string][] = [
      [404, 'ROUTE_NOT_FOUND'],
      [413, 'BODY_TOO_LARGE'],
      [415, 'UNSUPPORTED_MEDIA_TYPE'],
      [400, 'BAD_REQUEST'],
      [401, 'BAD_REQUEST'],
      [499, 'BAD_REQUEST'],
      [399, 'INTERNAL'],
      [500, 'INTERNAL'],
      [503, 'INTERNAL'],
      [undefined, 'INTERNAL'],
    ];
    for (const [statusCode, code] of byStatus) {
      assert.equal(toAmphiError(errorWith({ statusCode })).code, code, String(statusCode));
    }
  });
});

describe('errorHandler', () => {
  interface LogLine {
    level: number;
    msg: string;
    route?: string;
    err?: { message: string };
  }

  async function appThrowing(error: Error) {
    const lines: LogLine[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
    const limits = { maxConnections: 10, headersTimeoutMs: 1000, requestTimeoutMs: 1000 };
    const app = createHttpApp({ log, limits, bodyLimitBytes: 1024 });
    app.get('/fail/:id', () => {
      throw error;
    });
    await app.ready();
    try {
      const res = await app.inject({ method: 'GET', url: '/fail/1' });
      return { res, lines: lines.filter((l) => l.level >= 40) };
    } finally {
      await app.close();
    }
  }

  test('an unexpected error answers 500 INTERNAL and is logged as an error with its route', async () => {
    const { res, lines } = await appThrowing(new Error('disk on fire'));
    assert.equal(res.statusCode, 500);
    assert.equal(res.json().error.code, 'INTERNAL');
    assert.doesNotMatch(res.body, /disk on fire/);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 50);
    assert.equal(lines[0]!.msg, 'request failed');
    assert.equal(lines[0]!.route, '/fail/:id');
    assert.equal(lines[0]!.err?.message, 'disk on fire');
  });

  test('a storage outage answers 503 with Retry-After and is logged as a warning', async () => {
    const { res, lines } = await appThrowing(errorWith({ code: 'ECONNREFUSED' }, 'connect ECONNREFUSED'));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.json().error.code, 'SERVICE_UNAVAILABLE');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40);
    assert.equal(lines[0]!.msg, 'storage unavailable');
    assert.equal(lines[0]!.route, '/fail/:id');
    assert.equal(lines[0]!.err?.message, 'connect ECONNREFUSED');
  });

  test('a deliberate 503 (the stage full) is logged as what it was, not as a storage outage', async () => {
    const { res, lines } = await appThrowing(new AmphiError('STAGE_BUSY', { headers: { 'retry-after': '5' } }));
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40);
    assert.equal(lines[0]!.msg, 'request refused: STAGE_BUSY');
  });

  test('a caller mistake is answered with its catalogue entry and not logged as a failure', async () => {
    const { res, lines } = await appThrowing(new AmphiError('HOST_ONLY'));
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), { error: { code: 'HOST_ONLY', message: new AmphiError('HOST_ONLY').message } });
    assert.deepEqual(lines, []);
  });
});
