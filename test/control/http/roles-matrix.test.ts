import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ErrorCode } from '../../../src/errors.ts';
import { makeTestApp, type Reply, type TestApp } from '../../helpers/app.ts';

/**
 * Every route x every role. Each case gets a fresh Space with the full cast on it, then one actor
 * performs one action. 'ok' means a 2xx; an error code means exactly that code and the HTTP status
 * written below. The statuses are written here, not read from the catalogue under test, so a code
 * whose status changes fails this test until the change is meant (and API users are told).
 */
const roles = ['anonymous', 'listener', 'requester', 'removed', 'speaker', 'cohost', 'host', 'admin'] as const;
type Role = (typeof roles)[number];
/** An operator (admin) holds no role in the Space: on a Space's own actions they are a listener. */
type SpaceRole = Exclude<Role, 'admin'>;
const statusOf = {
  AUTH_REQUIRED: 401,
  HOST_ONLY: 403,
  MODERATOR_ONLY: 403,
  SPEAKER_ONLY: 403,
  OUTRANKED: 403,
  CANNOT_UNMUTE_OTHERS: 403,
  REMOVED_FROM_SPACE: 403,
  REQUEST_NOT_FOUND: 404,
  INVITATION_NOT_FOUND: 404,
  SPACE_NOT_FOUND: 404,
  SPACE_ENDED: 409,
  ALREADY_ON_STAGE: 409,
  NOT_ON_STAGE: 409,
  REQUEST_ALREADY_PENDING: 409,
  TARGET_IS_HOST: 409,
  SPACE_NOT_SCHEDULED: 409,
  ADMIN_ONLY: 403,
  NOT_A_COHOST_TARGET: 409,
  BAN_NOT_FOUND: 404,
  REPORT_TARGET_INVALID: 409,
} as const satisfies Partial<Record<ErrorCode, number>>;
type Refusal = keyof typeof statusOf;
type Expect = 'ok' | Refusal;

interface Cast {
  readonly spaceId: string;
  /** Account ids and tokens by role; `speaker2` and `outsider` are targets, never actors. */
  readonly ids: Record<Role | 'speaker2' | 'outsider', string>;
  readonly tokens: Record<Role, string | undefined>;
}

interface Action {
  readonly name: string;
  readonly state: 'scheduled' | 'live';
  /** Extra set-up for this actor before the action (e.g. invite them). Failures are expected and ignored. */
  readonly prepare?: (app: TestApp, cast: Cast, role: Role) => Promise<unknown>;
  readonly run: (app: TestApp, cast: Cast, role: Role) => Promise<Reply>;
  /** The operator's answer, when it differs from a listener's. */
  readonly expect: Record<SpaceRole, Expect> & { readonly admin?: Expect };
  /** Not about one Space (an account's blocks, the operators' queue): left out of the missing-Space check. */
  readonly spaceless?: true;
}

const moderatorsOnly: Record<SpaceRole, Expect> = {
  anonymous: 'AUTH_REQUIRED',
  listener: 'MODERATOR_ONLY',
  requester: 'MODERATOR_ONLY',
  removed: 'REMOVED_FROM_SPACE',
  speaker: 'MODERATOR_ONLY',
  cohost: 'ok',
  host: 'ok',
};
const hostOnly: Record<SpaceRole, Expect> = {
  ...moderatorsOnly,
  listener: 'HOST_ONLY',
  requester: 'HOST_ONLY',
  speaker: 'HOST_ONLY',
  cohost: 'HOST_ONLY',
};
const anySignedIn: Record<SpaceRole, Expect> = {
  anonymous: 'AUTH_REQUIRED',
  listener: 'ok',
  requester: 'ok',
  removed: 'REMOVED_FROM_SPACE',
  speaker: 'ok',
  cohost: 'ok',
  host: 'ok',
};
const self = (cast: Cast, role: Role) => (role === 'anonymous' ? cast.ids.outsider : cast.ids[role]);
const as = (cast: Cast, role: Role) => ({ token: cast.tokens[role] });
const member =
  (path: string, target: (cast: Cast, role: Role) => string, method = 'POST') =>
  (app: TestApp, cast: Cast, role: Role) =>
    app.call(method, `/api/spaces/${cast.spaceId}/members/${target(cast, role)}/${path}`, as(cast, role));
const onSpace =
  (method: string, path: string, body?: unknown, bodyOf?: (cast: Cast) => unknown, pathOf?: (cast: Cast) => string) =>
  (app: TestApp, cast: Cast, role: Role) =>
    app.call(method, `/api/spaces/${cast.spaceId}${path}${pathOf?.(cast) ?? ''}`, {
      ...as(cast, role),
      body: bodyOf?.(cast) ?? body,
    });

const actions: Action[] = [
  { name: 'GET space', state: 'live', run: onSpace('GET', ''), expect: { ...anySignedIn, anonymous: 'ok', removed: 'ok' } },
  { name: 'GET me', state: 'live', run: onSpace('GET', '/me'), expect: { ...anySignedIn, removed: 'ok' } },
  { name: 'start', state: 'scheduled', run: onSpace('POST', '/start'), expect: hostOnly },
  { name: 'end', state: 'live', run: onSpace('POST', '/end'), expect: hostOnly },
  { name: 'join', state: 'live', run: onSpace('POST', '/join'), expect: { ...anySignedIn, anonymous: 'ok' } },
  {
    name: 'stage credential',
    state: 'live',
    run: onSpace('POST', '/stage'),
    expect: { ...anySignedIn, listener: 'SPEAKER_ONLY', requester: 'SPEAKER_ONLY' },
  },
  {
    name: 'request to speak',
    state: 'live',
    run: onSpace('POST', '/requests'),
    expect: {
      ...anySignedIn,
      requester: 'REQUEST_ALREADY_PENDING',
      speaker: 'ALREADY_ON_STAGE',
      cohost: 'ALREADY_ON_STAGE',
      host: 'ALREADY_ON_STAGE',
    },
  },
  {
    name: 'cancel my request',
    state: 'live',
    run: onSpace('DELETE', '/requests/me'),
    expect: {
      ...anySignedIn,
      listener: 'REQUEST_NOT_FOUND',
      speaker: 'REQUEST_NOT_FOUND',
      cohost: 'REQUEST_NOT_FOUND',
      host: 'REQUEST_NOT_FOUND',
    },
  },
  { name: 'list requests', state: 'live', run: onSpace('GET', '/requests'), expect: moderatorsOnly },
  {
    name: 'accept request',
    state: 'live',
    run: (app, cast, role) =>
      app.call('POST', `/api/spaces/${cast.spaceId}/requests/${cast.ids.requester}/accept`, as(cast, role)),
    expect: moderatorsOnly,
  },
  {
    name: 'decline request',
    state: 'live',
    run: (app, cast, role) =>
      app.call('POST', `/api/spaces/${cast.spaceId}/requests/${cast.ids.requester}/decline`, as(cast, role)),
    expect: moderatorsOnly,
  },
  {
    name: 'invite a listener',
    state: 'live',
    run: (app, cast, role) =>
      app.call('POST', `/api/spaces/${cast.spaceId}/invitations`, { ...as(cast, role), body: { accountId: cast.ids.outsider } }),
    expect: moderatorsOnly,
  },
  ...(['accept', 'decline'] as const).map((answer): Action => ({
    name: `${answer} my invitation`,
    state: 'live',
    prepare: (app, cast, role) =>
      app.call('POST', `/api/spaces/${cast.spaceId}/invitations`, {
        token: cast.tokens.host,
        body: { accountId: self(cast, role) },
      }),
    run: onSpace('POST', `/invitations/me/${answer}`),
    expect: { ...anySignedIn, speaker: 'INVITATION_NOT_FOUND', cohost: 'INVITATION_NOT_FOUND', host: 'INVITATION_NOT_FOUND' },
  })),
  { name: 'mute another speaker', state: 'live', run: member('mute', (c) => c.ids.speaker2), expect: moderatorsOnly },
  {
    name: 'mute the host',
    state: 'live',
    run: member('mute', (c) => c.ids.host),
    expect: { ...moderatorsOnly, cohost: 'OUTRANKED' }, // the host muting themselves is a self-mute: ok
  },
  {
    name: 'unmute another speaker',
    state: 'live',
    run: member('unmute', (c) => c.ids.speaker2),
    expect: {
      ...moderatorsOnly,
      listener: 'CANNOT_UNMUTE_OTHERS',
      requester: 'CANNOT_UNMUTE_OTHERS',
      removed: 'REMOVED_FROM_SPACE',
      speaker: 'CANNOT_UNMUTE_OTHERS',
      cohost: 'CANNOT_UNMUTE_OTHERS',
      host: 'CANNOT_UNMUTE_OTHERS',
    },
  },
  ...(['mute', 'unmute'] as const).map((verb): Action => ({
    name: `${verb} myself`,
    state: 'live',
    run: member(verb, self),
    expect: { ...anySignedIn, listener: 'NOT_ON_STAGE', requester: 'NOT_ON_STAGE' },
  })),
  {
    name: 'move a speaker to the audience',
    state: 'live',
    run: member('audience', (c) => c.ids.speaker2),
    expect: moderatorsOnly,
  },
  {
    name: 'leave the stage',
    state: 'live',
    run: member('audience', self),
    expect: { ...anySignedIn, listener: 'NOT_ON_STAGE', requester: 'NOT_ON_STAGE', host: 'TARGET_IS_HOST' },
  },
  {
    name: 'move a speaker to the audience after the end',
    state: 'live',
    prepare: (app, cast) => app.call('POST', `/api/spaces/${cast.spaceId}/end`, { token: cast.tokens.host }),
    run: member('audience', (c) => c.ids.speaker2),
    expect: { ...moderatorsOnly, cohost: 'SPACE_ENDED', host: 'SPACE_ENDED' },
  },
  { name: 'remove a listener', state: 'live', run: member('remove', (c) => c.ids.outsider), expect: moderatorsOnly },
  { name: 'remove a speaker', state: 'live', run: member('remove', (c) => c.ids.speaker2), expect: moderatorsOnly },
  {
    name: 'remove the host',
    state: 'live',
    run: member('remove', (c) => c.ids.host),
    expect: { ...moderatorsOnly, cohost: 'TARGET_IS_HOST', host: 'TARGET_IS_HOST' },
  },
  {
    name: 'remove a co-host',
    state: 'live',
    run: member('remove', (c) => c.ids.cohost),
    expect: { ...moderatorsOnly, cohost: 'OUTRANKED' },
  },
  { name: 'make co-host', state: 'live', run: member('cohost', (c) => c.ids.speaker2), expect: hostOnly },
  { name: 'unmake co-host', state: 'live', run: member('cohost', (c) => c.ids.cohost, 'DELETE'), expect: hostOnly },
  {
    name: 'pin a link',
    state: 'live',
    run: onSpace('PUT', '/pin', { url: 'https://example.org/notes' }),
    expect: moderatorsOnly,
  },
  { name: 'unpin', state: 'live', run: onSpace('DELETE', '/pin'), expect: moderatorsOnly },
  {
    name: 'lock out anonymous listeners',
    state: 'live',
    run: onSpace('PATCH', '', { allowAnonymous: false }),
    expect: moderatorsOnly,
  },
  {
    name: 'move the start',
    state: 'scheduled',
    run: onSpace('PATCH', '', { scheduledStart: '2099-01-01T19:00:00.000Z' }),
    expect: hostOnly,
  },
  {
    name: 'move the start of a live Space',
    state: 'live',
    run: onSpace('PATCH', '', { scheduledStart: '2099-01-01T19:00:00.000Z' }),
    expect: mapOk(hostOnly, 'SPACE_NOT_SCHEDULED'),
  },
  { name: 'react', state: 'live', run: onSpace('POST', '/reactions', { emoji: '🔥' }), expect: anySignedIn },
  { name: 'set reminder', state: 'scheduled', run: onSpace('PUT', '/reminder'), expect: anySignedIn },
  {
    name: 'set reminder on a live Space',
    state: 'live',
    run: onSpace('PUT', '/reminder'),
    expect: mapOk(anySignedIn, 'SPACE_NOT_SCHEDULED'),
  },
  { name: 'clear reminder', state: 'scheduled', run: onSpace('DELETE', '/reminder'), expect: anySignedIn },
];

function mapOk(base: Record<SpaceRole, Expect>, to: Refusal): Record<SpaceRole, Expect> {
  return Object.fromEntries(Object.entries(base).map(([r, e]) => [r, e === 'ok' ? to : e])) as Record<SpaceRole, Expect>;
}

/** Only operators; everyone signed in is refused alike. */
const adminOnly: Record<SpaceRole, Expect> & { admin: Expect } = {
  anonymous: 'AUTH_REQUIRED',
  listener: 'ADMIN_ONLY',
  requester: 'ADMIN_ONLY',
  removed: 'ADMIN_ONLY',
  speaker: 'ADMIN_ONLY',
  cohost: 'ADMIN_ONLY',
  host: 'ADMIN_ONLY',
  admin: 'ok',
};
const report = (body: (cast: Cast) => Record<string, unknown>) => (app: TestApp, cast: Cast, role: Role) =>
  app.call('POST', '/api/reports', { ...as(cast, role), body: { reason: 'spam', ...body(cast) } });

/** Hosts, moderators and operators (issue 19): each new action, each role. */
const communityActions: Action[] = [
  {
    name: 'hand over to the co-host',
    state: 'live',
    run: onSpace('POST', '/handover', undefined, (c) => ({ accountId: c.ids.cohost })),
    expect: hostOnly,
  },
  {
    name: 'hand over to a speaker',
    state: 'live',
    run: onSpace('POST', '/handover', undefined, (c) => ({ accountId: c.ids.speaker2 })),
    expect: { ...hostOnly, host: 'NOT_A_COHOST_TARGET' },
  },
  { name: 'let co-hosts end the Space', state: 'live', run: onSpace('PATCH', '', { cohostsMayEnd: true }), expect: hostOnly },
  { name: 'set topics', state: 'scheduled', run: onSpace('PATCH', '', { tags: ['music', '#talk'] }), expect: hostOnly },
  {
    name: 'end, co-hosts allowed',
    state: 'live',
    prepare: (app, cast) =>
      app.call('PATCH', `/api/spaces/${cast.spaceId}`, { token: cast.tokens.host, body: { cohostsMayEnd: true } }),
    run: onSpace('POST', '/end'),
    expect: { ...hostOnly, cohost: 'ok' },
  },
  {
    name: 'unban the removed user',
    state: 'live',
    run: onSpace('DELETE', '', undefined, undefined, (c) => `/bans/${c.ids.removed}`),
    expect: moderatorsOnly,
  },
  {
    name: 'unban someone never removed',
    state: 'live',
    run: onSpace('DELETE', '', undefined, undefined, (c) => `/bans/${c.ids.outsider}`),
    expect: mapOk(moderatorsOnly, 'BAN_NOT_FOUND'),
  },
  { name: 'audience list', state: 'live', run: onSpace('GET', '/audience'), expect: moderatorsOnly },
  { name: 'audit log', state: 'live', run: onSpace('GET', '/audit'), expect: moderatorsOnly },
  { name: 'analytics', state: 'live', run: onSpace('GET', '/analytics'), expect: moderatorsOnly },
  {
    name: 'report the Space',
    state: 'live',
    run: report((c) => ({ kind: 'space', spaceId: c.spaceId })),
    expect: { ...anySignedIn, removed: 'ok', host: 'REPORT_TARGET_INVALID' },
  },
  {
    name: 'report the replay of a live Space',
    state: 'live',
    run: report((c) => ({ kind: 'replay', spaceId: c.spaceId })),
    expect: { ...mapOk(anySignedIn, 'REPORT_TARGET_INVALID'), removed: 'REPORT_TARGET_INVALID' },
  },
  {
    name: 'report a user',
    state: 'live',
    spaceless: true,
    run: report((c) => ({ kind: 'user', accountId: c.ids.speaker2 })),
    expect: { ...anySignedIn, removed: 'ok' },
  },
  {
    name: "block someone from all one's Spaces",
    state: 'live',
    spaceless: true,
    run: (app, cast, role) => app.call('PUT', `/api/me/blocks/${cast.ids.outsider}`, as(cast, role)),
    expect: { ...anySignedIn, removed: 'ok' },
  },
  {
    name: 'the report queue',
    state: 'live',
    spaceless: true,
    run: (app, cast, role) => app.call('GET', '/api/admin/reports', as(cast, role)),
    expect: adminOnly,
  },
  {
    name: 'decide a report: end the Space',
    state: 'live',
    spaceless: true,
    run: async (app, cast, role) => {
      const r = await report((c) => ({ kind: 'space', spaceId: c.spaceId }))(app, cast, 'listener');
      const body = { decision: 'end_space', statement: 'Spam, repeatedly.' };
      return app.call('POST', `/api/admin/reports/${r.json.report.id as string}/decision`, { ...as(cast, role), body });
    },
    expect: adminOnly,
  },
  {
    name: 'the operator-wide audit log',
    state: 'live',
    spaceless: true,
    run: (app, cast, role) => app.call('GET', '/api/admin/audit', as(cast, role)),
    expect: adminOnly,
  },
];

async function ok(reply: Promise<Reply>, what: string): Promise<Reply> {
  const r = await reply;
  assert.ok(r.status < 300, `${what}: ${r.status} ${JSON.stringify(r.json)}`);
  return r;
}

describe('role x action matrix', () => {
  let app: TestApp;
  const accounts = {} as Record<Exclude<Role, 'anonymous'> | 'speaker2' | 'outsider', { id: string; token: string }>;
  const everyAction = [...actions, ...communityActions];

  before(async () => {
    // Hundreds of Spaces by one host, many live at once: the per-account quotas have their own tests.
    app = await makeTestApp({
      spaces: { createPerAccount: { capacity: 10_000, refillPerSecond: 1 }, maxLivePerAccount: 1000 },
      rateLimits: { reportsPerAccount: { capacity: 10_000, refillPerSecond: 1 } },
    });
    for (const name of ['listener', 'requester', 'removed', 'speaker', 'speaker2', 'cohost', 'host', 'outsider'] as const) {
      accounts[name] = await app.signUp(`u_${name}`);
    }
    accounts.admin = await app.signUpAdmin('u_admin');
  });
  after(() => app.close());

  /** A fresh Space with the whole cast in place. */
  async function castSpace(state: 'scheduled' | 'live'): Promise<Cast> {
    const host = accounts.host.token;
    const created = await ok(app.call('POST', '/api/spaces', { token: host, body: { title: 'Matrix' } }), 'create');
    const spaceId = created.json.space.id as string;
    const url = (p: string) => `/api/spaces/${spaceId}${p}`;
    for (const who of ['speaker', 'speaker2', 'cohost'] as const) {
      await ok(app.call('POST', url('/invitations'), { token: host, body: { accountId: accounts[who].id } }), `invite ${who}`);
      await ok(app.call('POST', url('/invitations/me/accept'), { token: accounts[who].token }), `${who} accepts`);
    }
    await ok(app.call('POST', url(`/members/${accounts.cohost.id}/cohost`), { token: host }), 'make cohost');
    await ok(app.call('POST', url(`/members/${accounts.removed.id}/remove`), { token: host }), 'remove');
    if (state === 'live') {
      await ok(app.call('POST', url('/start'), { token: host }), 'start');
      await ok(app.call('POST', url('/requests'), { token: accounts.requester.token }), 'request');
    }
    const ids = Object.fromEntries(Object.entries(accounts).map(([k, v]) => [k, v.id])) as Cast['ids'];
    const tokens = {
      anonymous: undefined,
      ...Object.fromEntries(Object.entries(accounts).map(([k, v]) => [k, v.token])),
    } as Cast['tokens'];
    return { spaceId, ids: { ...ids, anonymous: '' }, tokens };
  }

  for (const action of everyAction) {
    test(action.name, async () => {
      for (const role of roles) {
        const cast = await castSpace(action.state);
        await action.prepare?.(app, cast, role);
        const r = await action.run(app, cast, role);
        const expected = role === 'admin' ? (action.expect.admin ?? action.expect.listener) : action.expect[role];
        const where = `${action.name} as ${role}: got ${r.status} ${JSON.stringify(r.json)}`;
        if (expected === 'ok') {
          assert.ok(r.status >= 200 && r.status < 300, where);
        } else {
          assert.equal(r.status, statusOf[expected], where);
          assert.equal(r.json.error.code, expected, where);
        }
      }
    });
  }

  test('every action on a Space that does not exist is 404 (or 401 first when sign-in is needed)', async () => {
    const cast = await castSpace('live');
    const ghost = { ...cast, spaceId: 'sp_AAAAAAAAAAAA' };
    for (const action of everyAction.filter((a) => a.spaceless !== true)) {
      for (const role of ['anonymous', 'host'] as const) {
        const r = await action.run(app, ghost, role);
        const where = `${action.name} as ${role}: ${r.status} ${JSON.stringify(r.json)}`;
        const expected =
          role === 'anonymous' && action.expect.anonymous === 'AUTH_REQUIRED' ? 'AUTH_REQUIRED' : 'SPACE_NOT_FOUND';
        assert.equal(r.status, statusOf[expected], where);
        assert.equal(r.json.error.code, expected, where);
      }
    }
  });
});
