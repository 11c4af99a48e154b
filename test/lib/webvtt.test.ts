import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cueText, vttTime, webVtt } from '../../src/lib/webvtt.ts';

test('cue text is escaped (& < > are markup; --> would end the times) and never holds a blank line', () => {
  assert.equal(cueText('fish & <chips> --> here'), 'fish &amp; &lt;chips&gt; --&gt; here');
  assert.equal(cueText('one\n\n  \ntwo\r\nthree'), 'one\ntwo\nthree');
  assert.equal(cueText('plain words'), 'plain words');
});

test('a file: the header, then each cue (id, times, escaped text) after a blank line; a cue lasts at least 1 ms', () => {
  const vtt = webVtt(
    [
      { id: '1', startMs: 0, endMs: 1500, text: 'a & b' },
      { startMs: 3_723_004, endMs: 3_723_004, text: 'x\n\ny' },
    ],
    'X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000',
  );
  assert.equal(
    vtt,
    'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n1\n00:00:00.000 --> 00:00:01.500\na &amp; b\n\n01:02:03.004 --> 01:02:03.005\nx\ny\n',
  );
  assert.equal(vttTime(-5), '00:00:00.000');
});
