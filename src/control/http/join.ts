import { randomBytes } from 'node:crypto';
import type { Admission } from '../../admission/plane.ts';
import { AmphiError } from '../../errors.ts';
import type { Account } from '../../storage/store.ts';
import type { ControlMetrics } from '../metrics.ts';
import type { ControlPlane } from '../plane.ts';
import { iso } from './views.ts';

/** A join's body once validated (`JoinBody`; an absent or null body is `{}`). */
export interface JoinInput {
  readonly token?: string | undefined;
  readonly ticket?: string | undefined;
  readonly client?: string | undefined;
  readonly pow?: { readonly challenge: string; readonly solution: string } | undefined;
}

/** What `POST /api/spaces/:id/join` answers: a listener token (200) or a place in line (202). */
export type JoinAnswer =
  | {
      readonly status: 200;
      readonly body: {
        readonly token: string;
        readonly playlistUrl: string;
        readonly streamUrl: string;
        readonly expiresAt: string;
        readonly fallbacks: { readonly playlistUrl: string; readonly streamUrl: string }[];
      };
    }
  | {
      readonly status: 202;
      readonly body: {
        readonly ticket: string;
        readonly number: number;
        readonly position: number;
        readonly etaSeconds: number;
        readonly nowServing: number;
        readonly lineUrl: string;
        readonly client?: string;
      };
    };

export interface JoinRequest {
  readonly actor: Account | undefined;
  readonly spaceId: string;
  readonly body: JoinInput;
  /** The client's address (`request.ip`, or the door's twin of it). */
  readonly address: string;
}

/**
 * The join itself, after validation and authentication: the Fastify route and the lean door in front
 * of it (`join-door.ts`) both answer with this, so they cannot drift apart. Refusals are thrown as the
 * catalogue's errors. The bodies are built in the response schemas' property order, so
 * `JSON.stringify` writes what the schemas' serialiser writes.
 */
export function joiner(deps: {
  readonly plane: ControlPlane;
  readonly admission: Admission;
  readonly metrics: ControlMetrics;
}): (request: JoinRequest) => Promise<JoinAnswer> {
  const { plane, admission, metrics } = deps;
  return async ({ actor, spaceId, body, address }) => {
    // Anonymous callers are known by a secret id they keep (never by the token they get): their
    // token's subject derives from it, and so does their place in line. The server makes one only
    // when a ticket or challenge needs it: a client that wants to renew sends its own.
    let client = actor === undefined ? body.client : undefined;
    let renewing: string | undefined, waitedMs: number | undefined;
    if (body.token !== undefined) {
      // Renewals are admitted listeners: never queued, never challenged (but paced per address),
      // proven by their caller, and counted against the cap when the edge does not see them listening.
      admission.renewal(address);
      renewing = plane.credentials.renewalSubject(actor, spaceId, body.token, body.client);
      if (await plane.credentials.admissible(actor, spaceId)) admission.readmit(spaceId, renewing);
    } else if (await plane.credentials.admissible(actor, spaceId, client)) {
      const subject = () => actor?.id ?? `an:${(client ??= randomBytes(18).toString('base64url'))}`;
      let decision;
      try {
        decision = await admission.decide({
          spaceId,
          subject,
          signedIn: actor !== undefined,
          address,
          ticket: body.ticket,
          pow: body.pow,
        });
      } catch (error) {
        if (error instanceof AmphiError && error.code === 'POW_REQUIRED' && client !== undefined)
          throw new AmphiError('POW_REQUIRED', { details: { ...(error.details as object), client } });
        throw error;
      }
      if (decision.kind === 'admit') waitedMs = decision.waitedMs;
      if (decision.kind === 'wait') {
        const t = decision.ticket;
        if (body.ticket === undefined) plane.analytics.queued(spaceId);
        return {
          status: 202,
          body: {
            ticket: t.ticket,
            number: t.number,
            position: t.position,
            etaSeconds: t.etaSeconds,
            nowServing: t.nowServing,
            lineUrl: `/api/spaces/${spaceId}/line`,
            ...(client === undefined ? {} : { client }),
          },
        };
      }
    }
    const grant = await plane.credentials.join(actor, spaceId, { renewing, client });
    metrics.tokensIssued.inc({ kind: 'listener' });
    plane.analytics.joined(spaceId, grant.subject, { renewal: renewing !== undefined, replay: grant.replay, waitedMs });
    const { token, playlistUrl, streamUrl } = grant;
    const fallbacks = grant.fallbacks.map((f) => ({ playlistUrl: f.playlistUrl, streamUrl: f.streamUrl }));
    return { status: 200, body: { token, playlistUrl, streamUrl, expiresAt: iso(grant.expiresAt), fallbacks } };
  };
}
