import { Type, type Static } from 'typebox';

/** Request and response schemas of the control API. They validate input and generate the OpenAPI document. */
const strict = { additionalProperties: false } as const;

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'A code from docs/errors.md' }),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'Error', description: 'Every error has this shape' },
);

export const Handle = Type.String({ pattern: '^[A-Za-z0-9_]{3,30}$', description: '3-30 letters, digits or _' });
export const Password = Type.String({ minLength: 8, maxLength: 256 });
export const Id = Type.String({ pattern: '^[a-z]{2}_[A-Za-z0-9_-]{12}$', maxLength: 15 });
const IsoTime = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([IsoTime, Type.Null()]);

export const Account = Type.Object({ id: Type.String(), handle: Type.String(), createdAt: IsoTime }, { $id: 'Account' });

export const Credentials = Type.Object({ handle: Handle, password: Password }, strict);
export type CredentialsBody = Static<typeof Credentials>;

export const SignedIn = Type.Object({ account: Type.Ref('Account'), token: Type.String(), expiresAt: IsoTime });

export const SpaceState = Type.Union([Type.Literal('scheduled'), Type.Literal('live'), Type.Literal('ended')]);

export const StageMember = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  role: Type.Union([Type.Literal('host'), Type.Literal('cohost'), Type.Literal('speaker')]),
  muted: Type.Boolean(),
  mutedByHost: Type.Boolean(),
  speaking: Type.Boolean({ description: 'Heard in the program in the last ~400 ms' }),
  levelDbfs: Type.Integer({ description: 'Short-term audio level, -100 (silent) to 0' }),
});

export const Space = Type.Object(
  {
    id: Type.String(),
    title: Type.String(),
    state: SpaceState,
    allowAnonymous: Type.Boolean(),
    host: Type.Object({ id: Type.String(), handle: Type.String() }),
    scheduledStart: NullableTime,
    startedAt: NullableTime,
    endedAt: NullableTime,
    createdAt: IsoTime,
    pinnedLink: Type.Union([Type.String(), Type.Null()]),
    tags: Type.Array(Type.String(), { description: 'Topics, lower-case' }),
    cohostsMayEnd: Type.Boolean({ description: "The host's setting: co-hosts may end the Space" }),
    stage: Type.Array(StageMember),
    requestCount: Type.Integer(),
    reminderCount: Type.Integer(),
    reactions: Type.Array(Type.Object({ emoji: Type.String(), count: Type.Integer() })),
    listenerCount: Type.Integer({ description: 'Distinct listeners seen by the edge in the last 30 s' }),
    replay: Type.Object({
      available: Type.Boolean({ description: 'Ended and recorded: POST .../join returns the replay playlist' }),
      durationSeconds: Type.Union([Type.Integer(), Type.Null()]),
    }),
    endsAt: Type.Union([IsoTime, Type.Null()], {
      description: 'Set while no host or co-host is on stage: the Space ends by itself then unless one returns',
    }),
    recording: Type.Boolean({ description: 'Live and being recorded now: the replay will follow' }),
    backstage: Type.Union(
      [
        Type.Object({
          hostConnected: Type.Boolean({ description: 'A host or co-host is connected to the stage, waiting to go live' }),
          micChecked: Type.Boolean({ description: 'The stage has heard their microphone (sound, not silence)' }),
        }),
        Type.Null(),
      ],
      { description: 'Before the start, what the waiting audience sees backstage; null once live or where unknown' },
    ),
    version: Type.Integer({ description: 'Grows with every change a listener could see' }),
  },
  { $id: 'Space' },
);

export const SpaceEnvelope = Type.Object({ space: Type.Ref('Space') });

/** A topic: letters, digits and dashes (a leading '#' is dropped); at most five per Space. */
export const Tags = Type.Array(Type.String({ pattern: '^#?[A-Za-z0-9][A-Za-z0-9-]{0,23}$' }), { maxItems: 5 });

export const CreateSpace = Type.Object(
  {
    title: Type.String({
      minLength: 1,
      maxLength: 120,
      pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$',
      description: 'No control, bidirectional-override or invisible (zero-width) characters',
    }),
    scheduledStart: Type.Optional(IsoTime),
    allowAnonymous: Type.Optional(Type.Boolean({ description: 'Listeners may join without an account (default true)' })),
    tags: Type.Optional(Tags),
  },
  strict,
);

export const UpdateSpace = Type.Object(
  {
    allowAnonymous: Type.Optional(
      Type.Boolean({
        description: 'Listeners may join without an account; false refuses anonymous joins and renewals from now on',
      }),
    ),
    scheduledStart: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'A revised start (host only, before going live, in the future): the waiting audience sees it',
      }),
    ),
    tags: Type.Optional(Tags),
    cohostsMayEnd: Type.Optional(Type.Boolean({ description: 'Co-hosts may end the Space (host only; default false)' })),
  },
  { ...strict, minProperties: 1 },
);

export const ListSpacesQuery = Type.Object(
  {
    state: Type.Optional(SpaceState),
    q: Type.Optional(
      Type.String({ maxLength: 100, description: "Words each found in the title, the host's handle or display name" }),
    ),
    tag: Type.Optional(Type.String({ pattern: '^#?[A-Za-z0-9][A-Za-z0-9-]{0,23}$', description: 'Only Spaces with this topic' })),
    host: Type.Optional(Type.String({ maxLength: 40, description: "Only this host's Spaces (a handle)" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, default: 0 })),
  },
  strict,
);

export const SpaceParams = Type.Object({ id: Id }, strict);
export const MemberParams = Type.Object({ id: Id, accountId: Id }, strict);
export const AccountBody = Type.Object({ accountId: Id }, strict);
export const PinBody = Type.Object(
  { url: Type.String({ maxLength: 2048, pattern: '^https?://[^\\s\\u0000-\\u001f\\u007f]+$', description: 'An http(s) link' }) },
  strict,
);

export const MyRelation = Type.Object({
  role: Type.Enum(['host', 'cohost', 'speaker', 'listener', 'removed']),
  muted: Type.Boolean(),
  mutedByHost: Type.Boolean(),
  requestPending: Type.Boolean(),
  invited: Type.Boolean(),
  reminded: Type.Boolean(),
});

export const Requests = Type.Object({
  requests: Type.Array(Type.Object({ id: Type.String(), handle: Type.String(), requestedAt: IsoTime })),
});

export const JoinBody = Type.Union([
  Type.Object(
    {
      token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'A listener token to renew' })),
      ticket: Type.Optional(
        Type.String({ minLength: 1, maxLength: 1024, description: 'A waiting-room ticket whose number has come up' }),
      ),
      client: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9_-]{16,64}$',
          description:
            'Anonymous callers: your own secret id (16-64 random base64url characters), or the one a 202 or 428 answer gave you. Keep it secret and send it with every join and renewal: only its holder can renew an anonymous token.',
        }),
      ),
      pow: Type.Optional(
        Type.Object(
          {
            challenge: Type.String({ minLength: 1, maxLength: 1024 }),
            solution: Type.String({ minLength: 1, maxLength: 64 }),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
  Type.Null(),
]);

export const ListenerGrant = Type.Object({
  token: Type.String({ description: 'Signed listener token; it travels in the playlist URL path' }),
  playlistUrl: Type.String({ description: 'LL-HLS multivariant playlist (live, or the replay once ended)' }),
  streamUrl: Type.String({
    description: 'While live: the program as one held fragmented-MP4 response (MSE, ffmpeg, VLC); ends when the token expires',
  }),
  expiresAt: IsoTime,
  fallbacks: Type.Array(Type.Object({ playlistUrl: Type.String(), streamUrl: Type.String() }), {
    description:
      'The same URLs at other edges (cluster mode), best first: if the edge fails, play from the next with the same token, without joining again',
  }),
});

export const WaitingTicket = Type.Object({
  ticket: Type.String({ description: 'Signed waiting-room ticket: send it back as {ticket} once your number comes up' }),
  number: Type.Integer({ description: 'Your number in the line' }),
  position: Type.Integer({ description: 'Numbers ahead of yours' }),
  etaSeconds: Type.Number({
    description:
      'Estimated wait in seconds (to a tenth): until your number comes up at the measured admission rate, plus about a second to notice it when polling lineUrl once a second',
  }),
  nowServing: Type.Integer(),
  lineUrl: Type.String({ description: 'Poll this (cacheable, the same for everyone) until nowServing >= number' }),
  client: Type.Optional(Type.String({ description: 'Anonymous callers: send this back with the ticket' })),
});

export const LineStatus = Type.Object({
  nowServing: Type.Integer(),
  lastIssued: Type.Integer(),
  perSecond: Type.Number({
    description: 'Admission rate: your ETA is (number - nowServing) / perSecond, plus a second to notice',
  }),
});

export const StageGrant = Type.Object({ token: Type.String(), whipUrl: Type.String(), expiresAt: IsoTime });

export function reactionBody(emoji: readonly string[]) {
  return Type.Object({ emoji: Type.Enum([...emoji]) }, strict);
}

/** Standard error responses for a route, by status. */
/** A body of bytes (a file, an image): binary in the OpenAPI document, a Buffer in the handler. */
export const BinaryBody = Type.Unsafe<Buffer>(Type.String({ format: 'binary' }));

export function errors(...statuses: number[]): Record<number, unknown> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('Error')]));
}

export const NoContent = Type.Null({ description: 'No content' });

const TranscriptWord = Type.Object({ word: Type.String(), startMs: Type.Integer(), endMs: Type.Integer() });

export const Transcript = Type.Object({
  automatic: Type.Literal(true, { description: 'Machine-made from the live captions: say so to listeners' }),
  lines: Type.Array(
    Type.Object({
      startMs: Type.Integer({ description: "Ms from the start of the replay's timeline" }),
      endMs: Type.Integer(),
      text: Type.String(),
      words: Type.Array(TranscriptWord),
    }),
  ),
});

export const Chapters = Type.Object({
  chapters: Type.Array(
    Type.Object({
      start: Type.Number({ description: "Seconds from the start of the replay's timeline" }),
      end: Type.Number(),
      speaker: Type.Object({ id: Type.String(), handle: Type.String() }),
      excerpt: Type.Optional(
        Type.String({
          description: "Where the replay has a transcript: the first words said in the chapter ('…' when it says more)",
        }),
      ),
    }),
  ),
});
