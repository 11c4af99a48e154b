import { parseArgs } from 'node:util';
import { FRAME_MS } from '../stage/audio.ts';
import { OpusEncoderMono } from '../stage/codec.ts';
import { fileSource, SourceError, toneSource, type AudioSource } from './audio-source.ts';
import { stageGrant } from './grant.ts';
import { WhipRefused, WhipSession } from './whip-client.ts';

const USAGE = `usage: amphi publish (--url <WHIP URL> --token <stage token> | --api <URL> --space <id>)
                     [--tone <Hz> | --file <audio>] [--duration <seconds>] [--turn <url>] [--connect-timeout <seconds>]

Speaks into a Space's stage over WHIP: a tone (default 440 Hz) or an audio file (WAV natively, other
formats through ffmpeg), as Opus in real time, until --duration, the end of the file, or Ctrl-C.
  --url, --token    the stage credential of POST /api/spaces/<id>/stage ({ whipUrl, token })
  --api, --space    or: ask the API for it, signed in with AMPHI_SESSION_TOKEN, or with --handle and
                    AMPHI_PASSWORD (the password is never taken from the command line)
  --turn            TURN server instead of the ones the stage names, e.g. turn:host:3478?transport=tcp
                    (credentials: AMPHI_TURN_USERNAME, AMPHI_TURN_CREDENTIAL)
Exit status: 0 done, 1 refused or no connection, 2 bad usage or input.`;

const options = {
  url: { type: 'string' },
  token: { type: 'string' },
  api: { type: 'string' },
  space: { type: 'string' },
  handle: { type: 'string' },
  tone: { type: 'string' },
  file: { type: 'string' },
  duration: { type: 'string' },
  turn: { type: 'string' },
  'connect-timeout': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class Usage extends Error {}

/** `amphi publish`: speak into a Space over WHIP from the command line (a tone or an audio file). */
export async function publishCommand(argv: readonly string[], signal?: AbortSignal): Promise<number> {
  const say = (line: string) => process.stderr.write(`amphi publish: ${line}\n`);
  let session: WhipSession | undefined;
  try {
    const { values: v } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    if (v.help === true) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const durationMs = seconds(v.duration, '--duration') ?? Infinity;
    const connectTimeoutMs = seconds(v['connect-timeout'], '--connect-timeout') ?? 15_000;
    const source = await audioSource(v.tone, v.file);
    const grant = await credential(v);
    const stop = stopSignal(signal);
    const started = Date.now();
    session = await WhipSession.open({ url: grant.url, token: grant.token, iceServers: turnOverride(v.turn) });
    await Promise.race([session.connected(connectTimeoutMs), stop.promise.then(() => undefined)]);
    if (stop.stopped) return 0;
    process.stdout.write(
      `connected to ${grant.url} in ${Date.now() - started} ms via ${session.path}; sending ${source.describe}\n`,
    );
    const ended = await send(session, source, durationMs, Promise.race([stop.promise, session.ended()]));
    if (ended !== undefined && ended !== 'stopped') {
      say(`the stage ended the session (${ended})`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof Usage || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      say(`${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof SourceError) return (say(error.message), 2);
    if (error instanceof WhipRefused) return (say(`refused: ${error.status} ${error.code}: ${error.message}`), 1);
    say(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await session?.close();
  }
}

/** Sends the source in real time, one 20 ms Opus packet per frame; the reason it stopped early, if it did. */
async function send(
  session: WhipSession,
  source: AudioSource,
  durationMs: number,
  stop: Promise<string>,
): Promise<string | undefined> {
  const encoder = new OpusEncoderMono({ bitrateBps: 64_000, application: 'audio' });
  let reason: string | undefined;
  void stop.then((r) => (reason = r));
  const start = performance.now();
  for (let n = 0; n * FRAME_MS < durationMs && reason === undefined; n++) {
    const frame = source.next();
    if (frame === undefined) break;
    session.send(encoder.encode(frame));
    // Paced by the clock from the start, so timer lateness does not add up.
    const wait = start + (n + 1) * FRAME_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return reason;
}

/** SIGINT, SIGTERM or the caller's abort: resolves 'stopped' once. */
function stopSignal(signal: AbortSignal | undefined) {
  let stopped = false;
  const promise = new Promise<string>((resolve) => {
    const done = () => {
      stopped = true;
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve('stopped');
    };
    process.once('SIGINT', done).once('SIGTERM', done);
    signal?.addEventListener('abort', done, { once: true });
  });
  return {
    promise,
    get stopped() {
      return stopped;
    },
  };
}

function seconds(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Usage(`${name} takes a number of seconds, not ${JSON.stringify(text)}`);
  return n * 1000;
}

async function audioSource(tone: string | undefined, file: string | undefined): Promise<AudioSource> {
  if (tone !== undefined && file !== undefined) throw new Usage('give --tone or --file, not both');
  if (file !== undefined) return fileSource(file);
  const hz = tone === undefined ? 440 : Number(tone);
  if (!Number.isFinite(hz) || hz < 20 || hz > 20_000) throw new Usage(`--tone takes a frequency in Hz (20-20000), not ${tone}`);
  return toneSource(hz);
}

async function credential(v: { url?: string; token?: string; api?: string; space?: string; handle?: string }) {
  if (v.url !== undefined || v.token !== undefined) {
    if (v.url === undefined || v.token === undefined) throw new Usage('--url and --token go together');
    if (!/^https?:\/\//.test(v.url)) throw new Usage(`--url must be the http(s) WHIP URL, not ${v.url}`);
    return { url: v.url, token: v.token };
  }
  if (v.api === undefined || v.space === undefined) throw new Usage('give --url and --token, or --api and --space');
  const grant = await stageGrant({ api: v.api, spaceId: v.space, handle: v.handle, env: process.env });
  return { url: grant.whipUrl, token: grant.token };
}

function turnOverride(url: string | undefined) {
  if (url === undefined) return undefined;
  if (!/^turns?:/.test(url)) throw new Usage(`--turn takes a turn: or turns: URL, not ${url}`);
  const username = process.env.AMPHI_TURN_USERNAME;
  const credential = process.env.AMPHI_TURN_CREDENTIAL;
  return [{ urls: url, ...(username === undefined ? {} : { username }), ...(credential === undefined ? {} : { credential }) }];
}
