import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestHead } from '../../src/lib/raw-request.ts';

const head = (text: string) => parseRequestHead(Buffer.from(text, 'latin1'));

test('a plain GET or HEAD head, complete and alone in its chunk, is read: names lower-cased, repeats joined', () => {
  assert.deepEqual(
    head('GET /l/t/sp/live.mp4 HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nx-forwarded-for:5.6.7.8 \r\n\r\n'),
    {
      method: 'GET',
      url: '/l/t/sp/live.mp4',
      headers: { host: 'a', 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
    },
  );
  assert.equal(head('HEAD /x HTTP/1.0\r\n\r\n')?.method, 'HEAD');
});

test('anything unusual is left to the HTTP server (undefined)', () => {
  const refused: Record<string, string> = {
    'a partial head': 'GET /x HTTP/1.1\r\nhost: a\r\n',
    'bytes pipelined behind it': 'GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n',
    'another method': 'POST /x HTTP/1.1\r\n\r\n',
    OPTIONS: 'OPTIONS /x HTTP/1.1\r\n\r\n',
    'an absolute-form target': 'GET http://a/x HTTP/1.1\r\n\r\n',
    'HTTP/2 or 0.9': 'GET /x HTTP/2.0\r\n\r\n',
    'a space in the target': 'GET /x y HTTP/1.1\r\n\r\n',
    'a body length': 'GET /x HTTP/1.1\r\ncontent-length: 0\r\n\r\n',
    'a chunked body': 'GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'an upgrade': 'GET /x HTTP/1.1\r\nupgrade: websocket\r\n\r\n',
    'expect: 100-continue': 'GET /x HTTP/1.1\r\nexpect: 100-continue\r\n\r\n',
    'a folded header': 'GET /x HTTP/1.1\r\nhost: a\r\n b\r\n\r\n',
    'a space before the colon': 'GET /x HTTP/1.1\r\nhost : a\r\n\r\n',
    'a bare LF': 'GET /x HTTP/1.1\nhost: a\r\n\r\n',
    'a control character': 'GET /x HTTP/1.1\r\nhost: a\u0000b\r\n\r\n',
    'a head over 8 KB': `GET /x HTTP/1.1\r\nx: ${'a'.repeat(8200)}\r\n\r\n`,
  };
  for (const [what, text] of Object.entries(refused)) assert.equal(head(text), undefined, what);
});
