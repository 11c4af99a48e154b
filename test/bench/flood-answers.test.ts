import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeAnswers } from '../../bench/flood/answers.ts';

const answer = (status: number, body: string) =>
  `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
const chunked = (status: number, ...chunks: string[]) =>
  `HTTP/1.1 ${status} X\r\ntransfer-encoding: chunked\r\n\r\n` +
  chunks.map((c) => `${c.length.toString(16)}\r\n${c}\r\n`).join('') +
  '0\r\n\r\n';

test('pipelined answers are counted in order, each whole', () => {
  const text = answer(404, '{"error":{}}') + answer(401, '') + chunked(400, 'ab', 'cde') + answer(200, 'x');
  assert.deepEqual(takeAnswers(text), { statuses: [404, 401, 400, 200], rest: '' });
});

test('a partial answer waits for the rest of it', () => {
  const whole = answer(404, '0123456789');
  const cut = whole.length - 4; // the head and part of the body
  const first = takeAnswers(whole + whole.slice(0, cut));
  assert.deepEqual(first.statuses, [404]);
  assert.equal(first.rest, whole.slice(0, cut));
  assert.deepEqual(takeAnswers(first.rest + whole.slice(cut)), { statuses: [404], rest: '' });
  assert.deepEqual(takeAnswers(whole.slice(0, 20)), { statuses: [], rest: whole.slice(0, 20) }); // not even the head
  const body = chunked(400, 'abc');
  assert.deepEqual(takeAnswers(body.slice(0, -3)).statuses, []); // the last chunk not yet in
  assert.deepEqual(takeAnswers(body + answer(404, '')).statuses, [400, 404]);
});
