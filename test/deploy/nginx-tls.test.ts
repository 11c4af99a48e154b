import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TLSSocket } from 'node:tls';
import { startAmphi, type Running } from '../helpers/amphi-process.ts';
import { Cleanup } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../helpers/ports.ts';
import { hasCommands, optionalSuite, skipUnless } from '../helpers/skip.ts';

/**
 * deploy/nginx/amphi-tls.conf, the production front, run by a real nginx with a certificate from a
 * throwaway CA (openssl) in front of a real `amphi start` configured as deploy/amphi.production.yaml
 * says (https publicUrl, trustProxy 1, secure cookies). The conf is used as shipped: only its ports,
 * paths and server name are replaced. CI installs nginx and sets AMPHI_TEST_NGINX=1.
 */
const skip = skipUnless({
  available: hasCommands('nginx', 'openssl'),
  env: 'AMPHI_TEST_NGINX',
  suite: 'nginx TLS front tests',
  install: 'nginx and openssl',
});

const NAME = 'amphi.test';
/** The canonical file's name and ports, replaced by the test's. */
const SHIPPED_NAME = 'amphi.example.org';
const HOOK = { timeout: 60_000 };
const TEST = { timeout: 60_000 };
/** Sign-in attempts per client address before 429, set low so the test can reach it. */
const AUTH_CAPACITY = 3;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

optionalSuite('nginx terminating TLS in front of Amphi (deploy/nginx/amphi-tls.conf)', { skip, timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  let ca: Buffer;
  let tlsPort: number;
  let httpPort: number;
  let amphi: Running;
  let demoSpaceId: string;

  /** One request over HTTPS to nginx, as a browser on amphi.test would send it (only the test CA trusted). */
  const tls = (
    path: string,
    options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
  ): Promise<Answer & { tlsVersion: string | null }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: tlsPort,
          servername: NAME,
          ca,
          agent: false,
          path,
          method: options.method ?? 'GET',
          headers: { host: `${NAME}:${tlsPort}`, ...options.headers },
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
          timeout: 20_000,
        },
        (res) => {
          const tlsVersion = res.socket instanceof TLSSocket ? res.socket.getProtocol() : null;
          readAll(res).then((body) => resolve({ status: res.statusCode!, headers: res.headers, body, tlsVersion }), reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 20 s`)));
      req.on('error', reject);
      req.end(options.body);
    });

  before(async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'amphi-nginx-tls-'));
    cleanup.add('nginx prefix', () => rmSync(prefix, { recursive: true, force: true }));
    chmodSync(prefix, 0o755); // nginx's workers (user nobody when started as root) write temp files here
    const certs = join(prefix, 'tls');
    mkdirSync(certs);
    makeCertificates(certs, NAME);
    ca = readFileSync(join(certs, 'ca.crt'));

    tlsPort = await freePort();
    httpPort = await freePort();
    const stagePort = await freePort();
    const publicUrl = `https://${NAME}:${tlsPort}`;
    const data = join(prefix, 'data');
    const config = join(prefix, 'amphi.yaml');
    writeFileSync(
      config,
      JSON.stringify({
        server: { publicUrl, trustProxy: 1 },
        auth: { secureCookies: true, passwordHashCostLog2: 10 },
        rateLimits: { authPerAddress: { capacity: AUTH_CAPACITY, refillPerSecond: 0.001 } },
        stage: { publicUrl },
        demo: { enabled: true }, // a live Space with audio for the held-stream check
      }),
    );
    // Later flags win over startAmphi's `--stage-port 0`: nginx needs the stage's port up front.
    amphi = await startAmphi(cleanup, ['--data-dir', data, '--config', config, '--stage-port', String(stagePort)]);
    const appPort = new URL(amphi.url).port;

    const shipped = readFileSync(new URL('../../deploy/nginx/amphi-tls.conf', import.meta.url), 'utf8');
    const site = substitute(shipped, [
      ['listen 80;', `listen 127.0.0.1:${httpPort};`],
      ['listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`],
      // IPv6 may be missing where the test runs; the IPv4 lines carry the same settings.
      [/^\s*listen \[::\]:\d+.*\n/gm, ''],
      [`/etc/letsencrypt/live/${SHIPPED_NAME}/`, `${certs}/`],
      [SHIPPED_NAME, NAME],
      ['root /var/www/html;', `root ${prefix}/acme;`],
      ['server 127.0.0.1:8080;', `server 127.0.0.1:${appPort};`],
      ['server 127.0.0.1:8081;', `server 127.0.0.1:${stagePort};`],
    ]);
    writeFileSync(join(prefix, 'amphi-tls.conf'), site);
    mkdirSync(join(prefix, 'acme/.well-known/acme-challenge'), { recursive: true });
    writeFileSync(join(prefix, 'acme/.well-known/acme-challenge/t0ken'), 't0ken.thumbprint');
    // What nginx.conf around a sites-enabled file provides on a real install, with paths in the prefix.
    writeFileSync(
      join(prefix, 'nginx.conf'),
      [
        'worker_processes 1;',
        'daemon off;',
        `pid ${prefix}/nginx.pid;`,
        `error_log ${prefix}/error.log warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '    access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${prefix}/${t};`),
        `    include ${prefix}/amphi-tls.conf;`,
        '}',
      ].join('\n'),
    );
    const conf = join(prefix, 'nginx.conf');
    const check = spawnSync('nginx', ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(check.status, 0, `nginx -t:\n${check.stderr}`);
    cleanup.child('nginx', spawn('nginx', ['-p', prefix, '-c', conf], { stdio: 'ignore' }));
    await eventually('nginx to answer over TLS', () => tls('/healthz'), { intervalMs: 100 });

    demoSpaceId = await eventually(
      'the demo Space to be live',
      () => {
        const line = amphi.logs.find((entry) => entry.msg === 'demo Space live');
        if (line === undefined) throw new Error('no "demo Space live" log line yet');
        return String(line.spaceId);
      },
      { intervalMs: 100 },
    );
  }, HOOK);
  after(() => cleanup.run(), HOOK);

  test('the app page is served over TLS 1.2+ with HSTS; HTTP/2 is offered', TEST, async () => {
    const page = await tls('/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<html/i);
    assert.ok(page.tlsVersion === 'TLSv1.3' || page.tlsVersion === 'TLSv1.2', `negotiated ${page.tlsVersion}`);
    assert.match(String(page.headers['strict-transport-security']), /max-age=\d{7,}/);

    const session = http2Connect(`https://127.0.0.1:${tlsPort}`, { ca, servername: NAME });
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        session.once('error', reject);
        const stream = session.request({ ':path': '/healthz', ':authority': `${NAME}:${tlsPort}` });
        let status = 0;
        let body = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => (body += chunk));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
        stream.end();
      });
      assert.equal(answer.status, 200, 'the same server over HTTP/2');
      assert.match(answer.body, /"status"/);
    } finally {
      session.close();
    }
  });

  test('plain HTTP redirects to HTTPS, path and query kept, but answers ACME challenges', TEST, async () => {
    const plain = (path: string) =>
      new Promise<Answer>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: httpPort, path, headers: { host: NAME }, agent: false, timeout: 10_000 },
          (res) => void readAll(res).then((body) => resolve({ status: res.statusCode!, headers: res.headers, body }), reject),
        );
        req.on('error', reject);
        req.end();
      });
    const answer = await plain('/s/sp_abc?x=1');
    assert.equal(answer.status, 301);
    assert.equal(answer.headers.location, `https://${NAME}/s/sp_abc?x=1`);
    const challenge = await plain('/.well-known/acme-challenge/t0ken');
    assert.equal(challenge.status, 200, 'certbot --webroot renewals are served over plain HTTP');
    assert.equal(challenge.body, 't0ken.thumbprint');
  });

  test('/healthz answers through nginx; /metrics does not leave the machine', TEST, async () => {
    const health = await tls('/healthz');
    assert.equal(health.status, 200, health.body);
    assert.match((JSON.parse(health.body) as { status: string }).status, /^(ok|degraded)$/);
    assert.equal((await tls('/metrics')).status, 404);
  });

  test('signing up over HTTPS sets a Secure, HttpOnly session cookie', TEST, async () => {
    const answer = await tls('/api/accounts', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'tlsalice', password: 'a long password' }),
      localAddress: '127.0.0.4', // the rate-limit test below counts 127.0.0.2 and .3 only
    });
    assert.equal(answer.status, 201, answer.body);
    const cookies = answer.headers['set-cookie'] ?? [];
    assert.equal(cookies.length, 1, JSON.stringify(cookies));
    assert.match(cookies[0]!, /;\s*Secure(;|$)/i);
    assert.match(cookies[0]!, /;\s*HttpOnly(;|$)/i);
  });

  test('Amphi sees the client address nginx saw (trustProxy 1 and X-Forwarded-For), not nginx', TEST, async () => {
    // Two clients on different loopback addresses share nginx's one address towards Amphi: only if
    // Amphi takes each client's own address does one client's spent sign-in budget leave the other's whole.
    const signIn = (localAddress: string, headers: Record<string, string> = {}) =>
      tls('/api/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ handle: 'nobodyhere', password: 'a wrong password' }),
        localAddress,
      });
    for (let i = 0; i < AUTH_CAPACITY; i++) assert.equal((await signIn('127.0.0.2')).status, 401);
    const limited = await signIn('127.0.0.2');
    assert.equal(limited.status, 429, limited.body);
    assert.equal((JSON.parse(limited.body) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    // Another client, even one that claims to be someone else, has its own budget...
    const other = await signIn('127.0.0.3', { 'x-forwarded-for': '198.51.100.7' });
    assert.equal(other.status, 401, `a second client is not limited by the first: ${other.body}`);
    // ...and cannot borrow one by writing X-Forwarded-For itself: nginx replaces it.
    const forged = await signIn('127.0.0.2', { 'x-forwarded-for': '198.51.100.8' });
    assert.equal(forged.status, 429, 'a forged X-Forwarded-For does not escape the limit');
  });

  test('/whip/ reaches the stage: its JSON errors, its CORS preflight', TEST, async () => {
    const post = await tls(`/whip/${demoSpaceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    assert.equal(post.status, 401, post.body);
    assert.equal((JSON.parse(post.body) as { error: { code: string } }).error.code, 'STAGE_TOKEN_INVALID');
    const preflight = await tls(`/whip/${demoSpaceId}/sessions/ss_abcdefghijkl`, {
      method: 'OPTIONS',
      headers: { origin: `https://${NAME}:${tlsPort}`, 'access-control-request-method': 'PATCH' },
    });
    assert.equal(preflight.status, 204);
    assert.match(String(preflight.headers['access-control-allow-methods']), /PATCH/);
    const hangUp = await tls(`/whip/${demoSpaceId}/sessions/ss_abcdefghijkl`, { method: 'DELETE' });
    assert.notEqual(hangUp.status, 404, `DELETE reaches the stage's route: ${hangUp.body}`);
    assert.match(String(hangUp.headers['content-type']), /json/, 'a stage answer, not an nginx page');
  });

  test('a blocking playlist reload held for seconds comes through (read timeout above the hold)', TEST, async () => {
    const join = await tls(`/api/spaces/${demoSpaceId}/join`, { method: 'POST', localAddress: '127.0.0.5' });
    assert.equal(join.status, 200, join.body);
    const playlistPath = new URL((JSON.parse(join.body) as { playlistUrl: string }).playlistUrl).pathname.replace(
      /[^/]+$/,
      'media.m3u8',
    );
    const playlist = await eventually(
      'a playlist with a whole segment',
      async () => {
        const answer = await tls(playlistPath);
        return answer.status === 200 && answer.body.includes('#EXTINF') ? answer.body : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    const first = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist)?.[1]);
    const last = first + (playlist.match(/#EXTINF/g)?.length ?? 0) - 1;
    // Two segments ahead: Amphi holds the request 2-4 s (a 2 s segment each), below its 6 s limit.
    const started = performance.now();
    const blocked = await tls(`${playlistPath}?_HLS_msn=${last + 2}&_HLS_part=0`);
    const heldMs = performance.now() - started;
    assert.equal(blocked.status, 200, blocked.body);
    assert.ok(heldMs > 1000, `the reload was held (${heldMs.toFixed(0)} ms), so the test means what it says`);
    assert.match(blocked.body, new RegExp(`#EXT-X-PART:[^\\n]*URI="p${last + 2}\\.0\\.m4s"`));
  });

  test('the held live.mp4 stream is not buffered: each part arrives as soon as Amphi sends it', TEST, async () => {
    const join = await tls(`/api/spaces/${demoSpaceId}/join`, { method: 'POST' });
    assert.equal(join.status, 200, join.body);
    const streamUrl = new URL((JSON.parse(join.body) as { streamUrl: string }).streamUrl);
    assert.equal(streamUrl.origin, `https://${NAME}:${tlsPort}`, 'listeners are sent to the public HTTPS name');
    const path = streamUrl.pathname;

    // The same stream straight from Amphi and through nginx at once: every part is the same bytes on
    // both, so the difference in arrival times is what nginx adds. Buffered, a part would wait for
    // the next ones to fill nginx's buffer (about one part's time, 500 ms).
    const direct = new PartClock();
    const proxied = new PartClock();
    const streams: IncomingMessage[] = [];
    try {
      const open = (req: ReturnType<typeof httpRequest>, clock: PartClock) =>
        new Promise<void>((resolve, reject) => {
          req.on('response', (res) => {
            streams.push(res);
            if (res.statusCode !== 200) reject(new Error(`live.mp4 answered ${res.statusCode}`));
            res.on('data', (chunk: Buffer) => clock.take(chunk));
            resolve();
          });
          req.on('error', reject);
          req.end();
        });
      await Promise.all([
        open(httpRequest(`${amphi.url}${path}`, { agent: false }), direct),
        open(
          httpsRequest({
            host: '127.0.0.1',
            port: tlsPort,
            servername: NAME,
            ca,
            agent: false,
            path,
            headers: { host: streamUrl.host },
          }),
          proxied,
        ),
      ]);
      await eventually('8 parts seen on both', () => direct.common(proxied).length >= 8, {
        timeoutMs: 20_000,
        intervalMs: 100,
      });
      assert.ok(
        streams.every((s) => !s.complete),
        'the responses are still open: the parts came before the response ended',
      );
      const delays = direct
        .common(proxied)
        .slice(3) // past the backlog sent at connect
        .map((key) => proxied.at(key) - direct.at(key));
      const sorted = [...delays].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      assert.ok(
        median < 150,
        `nginx delays parts by ${median.toFixed(0)} ms (median; all: ${delays.map((d) => d.toFixed(0)).join(', ')})`,
      );
    } finally {
      for (const s of streams) s.destroy();
    }
  });
});

/** When each whole moof+mdat (a part) of an fMP4 stream arrived, keyed by its bytes' hash. */
class PartClock {
  #pending = Buffer.alloc(0);
  #moof: Buffer | undefined;
  readonly #seen = new Map<string, number>();

  take(chunk: Buffer): void {
    const now = performance.now();
    this.#pending = Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 8) {
      const size = this.#pending.readUInt32BE(0);
      if (size < 8) throw new Error(`bad MP4 box size ${size}`);
      if (this.#pending.length < size) return;
      const box = this.#pending.subarray(0, size);
      this.#pending = this.#pending.subarray(size);
      const type = box.toString('latin1', 4, 8);
      if (type === 'moof') this.#moof = box;
      else if (type === 'mdat' && this.#moof !== undefined) {
        const key = createHash('sha1').update(this.#moof).update(box).digest('hex');
        if (!this.#seen.has(key)) this.#seen.set(key, now);
        this.#moof = undefined;
      }
    }
  }

  /** Parts both clocks saw, in arrival order. */
  common(other: PartClock): string[] {
    return [...this.#seen.keys()].filter((key) => other.#seen.has(key));
  }

  at(key: string): number {
    return this.#seen.get(key)!;
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

/**
 * Each replacement must apply: a changed canonical file fails here, loudly, instead of nginx running
 * something other than what the test means.
 */
function substitute(text: string, replacements: [string | RegExp, string][]): string {
  let out = text;
  for (const [from, to] of replacements) {
    const found = typeof from === 'string' ? out.includes(from) : from.test(out);
    assert.ok(found, `deploy/nginx/amphi-tls.conf has ${String(from)}`);
    out = typeof from === 'string' ? out.replaceAll(from, to) : out.replace(from, to);
  }
  return out;
}

/** A throwaway CA and a certificate it signed for `name` (SAN), as certbot lays them out: fullchain.pem, privkey.pem. */
function makeCertificates(dir: string, name: string): void {
  const openssl = (...args: string[]) => {
    const out = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.status, 0, `openssl ${args.join(' ')}:\n${out.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    ...['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Amphi test CA'],
    ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
  );
  openssl('req', ...ec, '-keyout', 'privkey.pem', '-out', 'server.csr', '-subj', `/CN=${name}`);
  writeFileSync(
    join(dir, 'server.ext'),
    `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n`,
  );
  openssl(
    ...['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
    ...['-out', 'fullchain.pem', '-days', '2', '-extfile', 'server.ext'],
  );
}
