import { spawn } from 'node:child_process';

/**
 * Plays a URL with Debian's ffmpeg and returns the decoded mono 48 kHz audio. Asynchronous on
 * purpose: the server under test lives in the same process and must keep answering. A player that
 * stalls is killed after `seconds` + 30 s (60 s for a whole replay): it fails the test, not hangs it.
 */
export async function ffmpegDecode(
  url: string,
  seconds?: number,
): Promise<{ pcm: Float32Array; code: number | null; stderr: string }> {
  const args = [
    '-v',
    'error',
    '-i',
    url,
    ...(seconds === undefined ? [] : ['-t', String(seconds)]),
    '-f',
    's16le',
    '-ac',
    '1',
    '-ar',
    '48000',
    'pipe:1',
  ];
  const timeoutMs = ((seconds ?? 30) + 30) * 1000;
  const child = spawn('ffmpeg', args, { timeout: timeoutMs, killSignal: 'SIGKILL' });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) =>
    child.on('exit', (exitCode, signal) => {
      if (signal !== null) stderr += `\nffmpeg killed (${signal}) after ${timeoutMs} ms`;
      resolve(exitCode);
    }),
  );
  const bytes = Buffer.concat(chunks);
  const samples = new Int16Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 2));
  return { pcm: Float32Array.from(samples, (s) => s / 32768), code, stderr };
}
