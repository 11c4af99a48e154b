import { Cleanup } from './cleanup.ts';
import { eventually } from './eventually.ts';
import { startLiveServer, type LiveServer } from './server.ts';
import { publishTone } from './whip-client.ts';

/**
 * A real embedded server with traffic on every plane, for tests of what `/metrics` exposes: a live
 * Space with a speaker on stage (WHIP, the mixer, the Opus encoder), a listener joined through the
 * door (admission, tokens), its LL-HLS playlist, a part and the held `live.mp4` stream fetched from
 * the edge (which fetches from the origin, which has written parts). Everything it started closes in
 * `cleanup`; call `cleanup.run()` in `after` or `finally`.
 */
export async function busyServer(cleanup: Cleanup): Promise<{ server: LiveServer; scrape: () => Promise<string> }> {
  const server = cleanup.use('server', await startLiveServer(), (s) => s.shutdown());
  const { spaceId, host } = await server.liveSpace(0);
  const speaker = await publishTone({ ...(await server.stageToken(spaceId, host.token)), frequencyHz: 440, receive: false });
  cleanup.add('tone publisher', () => speaker.close());
  await speaker.connected();
  await server.programFrames(spaceId, 60);
  const join = await server.api('POST', `/api/spaces/${spaceId}/join`);
  if (join.status !== 200) throw new Error(`join refused: ${JSON.stringify(join.json)}`);
  const { playlistUrl, streamUrl } = join.json as { playlistUrl: string; streamUrl: string };
  const media = await eventually('a media playlist with a part', async () => {
    const master = await (await fetch(playlistUrl)).text();
    const mediaUrl = new URL(
      master.split('\n').find((l) => l !== '' && !l.startsWith('#'))!,
      playlistUrl,
    );
    const text = await (await fetch(mediaUrl)).text();
    const part = /URI="([^"]+\.m4s[^"]*)"/.exec(text)?.[1];
    return part === undefined ? undefined : new URL(part, mediaUrl);
  });
  await (await fetch(media)).arrayBuffer();
  const stream = new AbortController();
  cleanup.add('live.mp4 stream', () => stream.abort());
  const held = await fetch(streamUrl, { signal: stream.signal });
  await held.body?.getReader().read();
  stream.abort();
  await server.api('GET', '/api/spaces/sp_doesnotexist0'); // a 404 on the API
  return {
    server,
    scrape: async () => {
      const r = await fetch(new URL('/metrics', server.url));
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      return r.text();
    },
  };
}
