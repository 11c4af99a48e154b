import type { Account } from '../../storage/store.ts';
import type { SpaceSnapshot } from '../snapshots.ts';
import { AccountBody, errors, MemberParams, PinBody, Requests, SpaceEnvelope, SpaceParams } from './schemas.ts';
import type { App, RouteContext } from './types.ts';
import { iso, spaceEnvelope } from './views.ts';

/**
 * Who is on stage: requests to speak, invitations, mute, move to audience, remove, co-hosts, the
 * pinned link. Every route answers with the updated Space.
 */
// eslint-disable-next-line max-lines-per-function -- a declarative route table: one schema and a short handler per route
export function stageRoutes(app: App, { plane, auth, live }: RouteContext): void {
  const { spaces } = plane;
  const envelope = (snap: SpaceSnapshot) => spaceEnvelope(snap, live);
  const response = { 200: SpaceEnvelope, ...errors(400, 401, 403, 404, 409) };

  /** A route on one Space: authenticate, act, answer with the Space. */
  const onSpace = (
    method: 'post' | 'put' | 'delete',
    path: string,
    operationId: string,
    summary: string,
    act: (actor: Account, spaceId: string) => Promise<SpaceSnapshot>,
  ) =>
    app[method](
      `/api/spaces/:id${path}`,
      { schema: { operationId, tags: ['stage'], summary, params: SpaceParams, response } },
      async (request) => envelope(await act(await auth.required(request), request.params.id)),
    );

  /** A route acting on one person in one Space; `path` names them as `:accountId`. */
  const onMember = (
    method: 'post' | 'delete',
    path: `/${'requests' | 'members'}/:accountId/${string}`,
    operationId: string,
    summary: string,
    act: (actor: Account, spaceId: string, targetId: string) => Promise<SpaceSnapshot>,
  ) =>
    app[method](
      `/api/spaces/:id${path}`,
      { schema: { operationId, tags: ['stage'], summary, params: MemberParams, response } },
      async (request) => envelope(await act(await auth.required(request), request.params.id, request.params.accountId)),
    );

  onSpace('post', '/requests', 'requestToSpeak', 'Request to speak (live Spaces)', (a, id) => spaces.requestToSpeak(a, id));
  onSpace('delete', '/requests/me', 'cancelRequest', 'Cancel my request to speak', (a, id) => spaces.cancelRequest(a, id));
  onMember('post', '/requests/:accountId/accept', 'acceptRequest', 'Accept a request to speak (host or co-host)', (a, id, t) =>
    spaces.answerRequest(a, id, t, true),
  );
  onMember('post', '/requests/:accountId/decline', 'declineRequest', 'Decline a request to speak (host or co-host)', (a, id, t) =>
    spaces.answerRequest(a, id, t, false),
  );
  onSpace('post', '/invitations/me/accept', 'acceptInvitation', 'Accept an invitation to speak', (a, id) =>
    spaces.answerInvitation(a, id, true),
  );
  onSpace('post', '/invitations/me/decline', 'declineInvitation', 'Decline an invitation to speak', (a, id) =>
    spaces.answerInvitation(a, id, false),
  );
  onMember('post', '/members/:accountId/mute', 'muteMember', 'Mute a speaker (host or co-host), or mute yourself', (a, id, t) =>
    spaces.setMuted(a, id, t, true),
  );
  onMember('post', '/members/:accountId/unmute', 'unmuteMember', 'Unmute yourself (nobody can unmute someone else)', (a, id, t) =>
    spaces.setMuted(a, id, t, false),
  );
  onMember(
    'post',
    '/members/:accountId/audience',
    'moveToAudience',
    'Move a speaker to the audience (host or co-host), or leave the stage yourself',
    (a, id, t) => spaces.moveToAudience(a, id, t),
  );
  onMember(
    'post',
    '/members/:accountId/remove',
    'removeMember',
    'Remove a user from the Space for good (host or co-host)',
    (a, id, t) => spaces.remove(a, id, t),
  );
  onMember('post', '/members/:accountId/cohost', 'makeCohost', 'Make a speaker co-host (host only)', (a, id, t) =>
    spaces.setCohost(a, id, t, true),
  );
  onMember('delete', '/members/:accountId/cohost', 'revokeCohost', 'Make a co-host a speaker again (host only)', (a, id, t) =>
    spaces.setCohost(a, id, t, false),
  );
  onSpace('delete', '/pin', 'unpinLink', 'Unpin the link (host or co-host)', (a, id) => spaces.setPinnedLink(a, id, null));

  app.get(
    '/api/spaces/:id/requests',
    {
      schema: {
        operationId: 'listRequests',
        tags: ['stage'],
        summary: 'Pending requests to speak, oldest first (host or co-host)',
        params: SpaceParams,
        response: { 200: Requests, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const list = await spaces.listRequests(await auth.required(request), request.params.id);
      return { requests: list.map((r) => ({ id: r.accountId, handle: r.handle, requestedAt: iso(r.createdAt) })) };
    },
  );

  app.post(
    '/api/spaces/:id/invitations',
    {
      schema: {
        operationId: 'inviteSpeaker',
        tags: ['stage'],
        summary: 'Invite a listener to speak (host or co-host)',
        params: SpaceParams,
        body: AccountBody,
        response,
      },
    },
    async (request) => envelope(await spaces.invite(await auth.required(request), request.params.id, request.body.accountId)),
  );

  app.put(
    '/api/spaces/:id/pin',
    {
      schema: {
        operationId: 'pinLink',
        tags: ['stage'],
        summary: 'Pin one link (host or co-host)',
        params: SpaceParams,
        body: PinBody,
        response,
      },
    },
    async (request) => envelope(await spaces.setPinnedLink(await auth.required(request), request.params.id, request.body.url)),
  );
}
