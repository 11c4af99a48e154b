import { Type, type Static, type TSchema } from 'typebox';

/**
 * The whole configuration, with units in the names. Every object rejects unknown keys, so a typo in
 * a config file is an error at start-up rather than a silently ignored setting.
 */
const strict = { additionalProperties: false } as const;
const RateLimit = Type.Object(
  { capacity: Type.Integer({ minimum: 1 }), refillPerSecond: Type.Number({ exclusiveMinimum: 0 }) },
  strict,
);
/** Ascending thresholds: overload level n starts at the n-th. */
const Levels = <T extends TSchema>(item: T) => Type.Array(item, { minItems: 1, maxItems: 8 });
const NullableUrl = Type.Union([Type.String({ pattern: '^https?://[^\\s]+[^/\\s]$' }), Type.Null()]);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ minLength: 1 }),
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        publicUrl: NullableUrl,
        bodyLimitBytes: Type.Integer({ minimum: 1024, maximum: 10_485_760 }),
        // Which X-Forwarded-For entries to believe: false (none), a hop count (1 = one proxy in front, whose appended entry is the client), or the proxies' addresses/CIDRs. `true` means 1 hop, never "all".
        trustProxy: Type.Union([
          Type.Boolean(),
          Type.Integer({ minimum: 1, maximum: 10 }),
          Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 64 }),
        ]),
        // Who may scrape /metrics: addresses, CIDRs or proxy-addr names (loopback, linklocal, uniquelocal).
        metricsAllowFrom: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 }),
        shutdownGraceMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
      },
      strict,
    ),
    dataDir: Type.String({ minLength: 1 }),
    databaseUrl: Type.Union([Type.String({ pattern: '^postgres(ql)?://' }), Type.Null()]),
    log: Type.Object({ level: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) }, strict),
    auth: Type.Object(
      {
        sessionTtlSeconds: Type.Integer({ minimum: 60 }),
        passwordHashCostLog2: Type.Integer({ minimum: 10, maximum: 20 }),
        secureCookies: Type.Boolean(),
      },
      strict,
    ),
    tokens: Type.Object(
      {
        listenerTokenTtlSeconds: Type.Integer({ minimum: 10, maximum: 86_400 }),
        stageTokenTtlSeconds: Type.Integer({ minimum: 10, maximum: 86_400 }),
        // One key, or a comma-separated list: tokens are signed with the first and accepted with any.
        signingKey: Type.Union([Type.String({ minLength: 32 }), Type.Null()]),
      },
      strict,
    ),
    spaces: Type.Object(
      {
        maxCohosts: Type.Integer({ minimum: 0, maximum: 100 }),
        maxSpeakers: Type.Integer({ minimum: 0, maximum: 1000 }),
        reactionEmoji: Type.Array(Type.String({ minLength: 1, maxLength: 16 }), { minItems: 1, maxItems: 64, uniqueItems: true }),
        snapshotTtlMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
        abandonedAfterMs: Type.Integer({ minimum: 60_000, maximum: 86_400_000 }),
        // Per-account quotas: Spaces created (a token bucket), Spaces live at once, a profile picture's bytes.
        createPerAccount: RateLimit,
        maxLivePerAccount: Type.Integer({ minimum: 1, maximum: 1000 }),
        avatarMaxBytes: Type.Integer({ minimum: 1024, maximum: 2_097_152 }),
      },
      strict,
    ),
    // clipsPerAccount: clips made (each a file kept with its recording); reportsPerAccount: reports sent;
    // transcriptSearchPerAddress: transcript searches (a LIKE over every line) per client address.
    rateLimits: Type.Object(
      {
        reactionsPerAccount: RateLimit,
        authPerAddress: RateLimit,
        clipsPerAccount: RateLimit,
        ...{ reportsPerAccount: RateLimit, transcriptSearchPerAddress: RateLimit },
      },
      strict,
    ),
    // Reminders and webhooks (src/control/notify/). No SMTP URL: no e-mail (setting an address is refused).
    notify: Type.Object(
      {
        smtpUrl: Type.Union([Type.String({ pattern: '^smtps?://' }), Type.Null()]),
        emailFrom: Type.String({ minLength: 3, maxLength: 200 }),
        // Webhook and push endpoint URLs that resolve to loopback, private or link-local addresses are refused unless this is on (a host must not make the server call into its own network).
        allowPrivateAddresses: Type.Boolean(),
        // Who runs this server, for push services (VAPID "sub"): a mailto: or https: URL.
        vapidSubject: Type.String({ pattern: '^(mailto:|https://)' }),
        webhookTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
        // Deliveries that fail are retried with exponential backoff from retryBaseMs, up to maxAttempts.
        retryBaseMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 20 }),
        pollMs: Type.Integer({ minimum: 50, maximum: 60_000 }),
        // Reminders also go out this many minutes before a scheduled start (0: only at go-live).
        remindBeforeMinutes: Type.Integer({ minimum: 0, maximum: 1440 }),
      },
      strict,
    ),
    edge: Type.Object(
      {
        publicUrl: NullableUrl,
        cacheMaxBytes: Type.Integer({ minimum: 1_048_576 }),
        tokenKeepAliveMs: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
        originUrl: Type.Union([Type.String(), Type.Null()]),
        // Concurrent held streams (live.mp4) per token subject and per client address.
        maxStreamsPerSubject: Type.Integer({ minimum: 1, maximum: 1000 }),
        maxStreamsPerAddress: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        // Parts written to each live.mp4 listener at once: 2 halves the edge's CPU per listener and adds a part (500 ms) to the player's delay.
        streamPartsPerWrite: Type.Integer({ minimum: 1, maximum: 4 }),
        // /edge/auth (the token check a CDN or nginx auth_request calls): per address.
        authPerAddress: RateLimit,
        // On SIGTERM a separate edge (`amphi edge`) reports itself draining (joins stop choosing it) and keeps serving this long before it closes its held streams.
        drainMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
      },
      strict,
    ),
    cluster: Type.Object(
      {
        // Redis for the shared state of a cluster (REDIS_URL): null = embedded, everything in this process.
        redisUrl: Type.Union([Type.String({ pattern: '^rediss?://' }), Type.Null()]),
        // Redis through Sentinel instead: host:port of each sentinel, and the name of the monitored master.
        sentinels: Type.Array(Type.String({ pattern: '^[^:]+:[0-9]+$' }), { maxItems: 16 }),
        sentinelName: Type.String({ minLength: 1, maxLength: 100 }),
        // How often each node reports itself (edges: URL and load); a report older than staleMs is ignored.
        reportMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
        staleMs: Type.Integer({ minimum: 500, maximum: 600_000 }),
        // A media node's lease on a Space: not renewed for this long (the node died), another takes it over.
        leaseMs: Type.Integer({ minimum: 1000, maximum: 60_000 }),
        // Broken on purpose (the launch-night drill's check that it can fail): a waiting line per control node. Never in production.
        brokenPerNodeLine: Type.Boolean(),
      },
      strict,
    ),
    // Recordings in an S3-compatible bucket (cluster mode), local disk as a write-ahead buffer (url null: local disk only).
    bucket: Type.Object(
      {
        // The endpoint with the bucket as its path: http://127.0.0.1:7480/amphi-media (AMPHI_BUCKET_URL).
        url: Type.Union([Type.String({ pattern: '^https?://' }), Type.Null()]),
        region: Type.String({ minLength: 1, maxLength: 64 }),
        accessKeyId: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
        secretAccessKey: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
        // Uploaded segments of each Space also kept on local disk (the newest); older ones come from the bucket.
        localSegments: Type.Integer({ minimum: 3, maximum: 1_000_000 }),
        // A failed upload is retried forever, the wait doubling from 250 ms up to this.
        retryMaxMs: Type.Integer({ minimum: 250, maximum: 300_000 }),
        // Spaces uploading at once (a Space's own objects go one at a time, in order).
        concurrency: Type.Integer({ minimum: 1, maximum: 256 }),
        requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000 }),
      },
      strict,
    ),
    captions: Type.Object(
      {
        // Live captions on this node: when false, no Space is captioned and the host's toggle answers 503 CAPTIONS_UNAVAILABLE.
        enabled: Type.Boolean(),
        // Whether a Space that goes live is captioned before its host says (the host can still turn it off).
        defaultOn: Type.Boolean(),
        // Spaces captioned at once on this node (each costs a recogniser thread, about 0.1–0.3 of a core); the next one gets none.
        maxSpaces: Type.Integer({ minimum: 1, maximum: 256 }),
        // The pocketsphinx model (en-us/, en-us.lm.bin, cmudict-en-us.dict); Debian's pocketsphinx-en-us installs it here.
        modelDir: Type.String({ minLength: 1 }),
      },
      strict,
    ),
    demo: Type.Object(
      {
        enabled: Type.Boolean(),
        title: Type.String({ minLength: 1, maxLength: 120 }),
        recordingWindowMinutes: Type.Integer({ minimum: 1, maximum: 10_080 }),
      },
      strict,
    ),
    origin: Type.Object(
      {
        partDurationMs: Type.Integer({ minimum: 200, maximum: 2000, multipleOf: 20 }),
        partsPerSegment: Type.Integer({ minimum: 2, maximum: 12 }),
        blockingTimeoutMs: Type.Integer({ minimum: 500, maximum: 30_000 }),
        // At least 6 segments: the live window must hold HOLD-BACK (3 target durations) with room to spare.
        liveWindowSegments: Type.Integer({ minimum: 6, maximum: 10_000 }),
        // Recordings of Spaces that ended longer ago than this are deleted (hourly); null keeps them.
        retentionDays: Type.Union([Type.Integer({ minimum: 1, maximum: 36_500 }), Type.Null()]),
      },
      strict,
    ),
    stage: Type.Object(
      {
        publicUrl: NullableUrl,
        port: Type.Integer({ minimum: 0, maximum: 65535 }),
        // The stage's own addresses, offered to speakers as ICE host candidates: the machine's public (or LAN) IPv4 address, never 0.0.0.0.
        iceAddresses: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 8 }),
        // The UDP (and ICE-TCP) ports stage media binds, for a firewall rule; null = any free port. min < max (docs/networks.md).
        icePortRange: Type.Union([
          Type.Object(
            { min: Type.Integer({ minimum: 1024, maximum: 65535 }), max: Type.Integer({ minimum: 1024, maximum: 65535 }) },
            strict,
          ),
          Type.Null(),
        ]),
        // Passive ICE-TCP host candidates (RFC 6544) beside UDP: speakers whose UDP is blocked connect over TCP.
        iceTcp: Type.Boolean(),
        // TURN servers the stage names to speakers (WHIP Link rel="ice-server"): secret = coturn's static-auth-secret (TURN REST API credentials, valid credentialTtlSeconds); or fixed username and credential; urls [] = none.
        turn: Type.Object(
          {
            urls: Type.Array(Type.String({ pattern: '^(turns?|stun):[^\\s<>,;"]+$' }), { maxItems: 8 }),
            secret: Type.Union([Type.String({ minLength: 16 }), Type.Null()]),
            username: Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: '^[^"\\\\]*$' }), Type.Null()]),
            credential: Type.Union([Type.String({ minLength: 1, maxLength: 256, pattern: '^[^"\\\\]*$' }), Type.Null()]),
            credentialTtlSeconds: Type.Integer({ minimum: 60, maximum: 604_800 }),
          },
          strict,
        ),
        iceGatherTimeoutMs: Type.Integer({ minimum: 100, maximum: 10_000 }),
        programBitrateBps: Type.Integer({ minimum: 32_000, maximum: 64_000 }),
        returnBitrateBps: Type.Integer({ minimum: 16_000, maximum: 64_000 }),
        maxSpeakerBitrateBps: Type.Integer({ minimum: 16_000, maximum: 510_000 }),
        maxSessions: Type.Integer({ minimum: 1, maximum: 100_000 }),
        whipPostsPerAccount: RateLimit,
        // Trickle PATCHes per WHIP session.
        patchesPerSession: RateLimit,
        // A session whose ICE has not connected by then is closed (its slot freed).
        connectTimeoutMs: Type.Integer({ minimum: 1000, maximum: 120_000 }),
        // Which remote ICE candidates the stage will send connectivity checks to. Unspecified, multicast, broadcast and link-local addresses are always refused. 'auto' allows loopback (private) only when one of iceAddresses is itself loopback (private), i.e. the stage serves that network anyway.
        remoteCandidates: Type.Object(
          {
            maxPerSession: Type.Integer({ minimum: 1, maximum: 100 }),
            allowLoopback: Type.Union([Type.Boolean(), Type.Literal('auto')]),
            allowPrivate: Type.Union([Type.Boolean(), Type.Literal('auto')]),
            minPort: Type.Integer({ minimum: 1, maximum: 65535 }),
            maxPort: Type.Integer({ minimum: 1, maximum: 65535 }),
          },
          strict,
        ),
      },
      strict,
    ),
    admission: Type.Object(
      {
        maxListeners: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
        joinsPerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
        joinBurst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
        ticketTtlMs: Type.Integer({ minimum: 5000, maximum: 3_600_000 }),
        ticketMaxWaitMs: Type.Integer({ minimum: 60_000, maximum: 86_400_000 }),
        etaHalfLifeMs: Type.Integer({ minimum: 1000, maximum: 600_000 }),
        overload: Type.Object(
          {
            eventLoopDelayLevelsMs: Levels(Type.Number({ exclusiveMinimum: 0 })),
            cpuShareLevels: Levels(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
            queueDepthLevels: Levels(Type.Integer({ minimum: 1 })),
            levelHoldMs: Type.Integer({ minimum: 0, maximum: 600_000 }),
            decreaseFactor: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
            decreaseIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
            recoveryPerSecond: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
            minCapacityFactor: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          },
          strict,
        ),
        shedding: Type.Object(
          {
            levels: Type.Array(
              Type.Object(
                {
                  joinsToWaitingRoom: Type.Boolean(),
                  roomStateIntervalMultiplier: Type.Number({ minimum: 1, maximum: 100 }),
                  reactionsKeepOneIn: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
                },
                strict,
              ),
              { minItems: 1, maxItems: 8 },
            ),
          },
          strict,
        ),
        pow: Type.Object(
          {
            thresholdJoinsPerSecond: Type.Number({ minimum: 0 }),
            minBits: Type.Integer({ minimum: 0, maximum: 32 }),
            bitsPerDoubling: Type.Number({ minimum: 0, maximum: 32 }),
            maxBits: Type.Integer({ minimum: 0, maximum: 32 }),
            challengeTtlMs: Type.Integer({ minimum: 5000, maximum: 3_600_000 }),
            exemptSignedIn: Type.Boolean(),
            replayMaxEntries: Type.Integer({ minimum: 1000, maximum: 100_000_000 }),
          },
          strict,
        ),
        limits: Type.Object(
          {
            perAddress: RateLimit,
            perToken: RateLimit,
            joinsPerAddress: RateLimit,
            maxConnections: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
            // Disjoint ranges keep headersTimeoutMs <= requestTimeoutMs, as node:http requires.
            headersTimeoutMs: Type.Integer({ minimum: 1000, maximum: 30_000 }),
            requestTimeoutMs: Type.Integer({ minimum: 30_000, maximum: 600_000 }),
            maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 10_485_760 }),
          },
          strict,
        ),
      },
      strict,
    ),
  },
  strict,
);

export type Config = Static<typeof ConfigSchema>;
