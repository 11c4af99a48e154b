import type { SqlDriver } from './driver.ts';

/**
 * Schema migrations, applied in order, each once. The SQL is the common subset of SQLite and
 * PostgreSQL: TEXT ids, BIGINT millisecond timestamps, INTEGER 0/1 flags. Append new migrations;
 * never edit one that has shipped.
 */
export const migrations: readonly { readonly id: number; readonly name: string; readonly sql: string }[] = [
  {
    id: 1,
    name: 'control plane',
    sql: `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  handle TEXT NOT NULL,
  handle_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE TABLE spaces (
  id TEXT PRIMARY KEY,
  host_id TEXT NOT NULL REFERENCES accounts(id),
  title TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),
  allow_anonymous INTEGER NOT NULL,
  scheduled_start BIGINT,
  started_at BIGINT,
  ended_at BIGINT,
  created_at BIGINT NOT NULL,
  pinned_link TEXT,
  version INTEGER NOT NULL
);
CREATE INDEX spaces_state ON spaces(state, created_at);
CREATE TABLE members (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  role TEXT NOT NULL CHECK (role IN ('host', 'cohost', 'speaker')),
  muted INTEGER NOT NULL,
  muted_by_host INTEGER NOT NULL,
  joined_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
CREATE TABLE speak_requests (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
CREATE TABLE invitations (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  invited_by TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
CREATE TABLE bans (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  banned_by TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
CREATE TABLE reminders (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
`,
  },
  {
    // A ban names a listener subject: an account, or the `an_...` id an anonymous listener's token
    // carries, which has no account row. SQLite cannot drop a constraint, so the table is rebuilt.
    id: 2,
    name: 'bans of anonymous listeners',
    sql: `
CREATE TABLE bans_v2 (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  banned_by TEXT NOT NULL REFERENCES accounts(id),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, account_id)
);
INSERT INTO bans_v2 (space_id, account_id, banned_by, created_at) SELECT space_id, account_id, banned_by, created_at FROM bans;
DROP TABLE bans;
ALTER TABLE bans_v2 RENAME TO bans
`,
  },
  {
    // Accounts the service made for itself (the demo's host), told apart from user accounts by this
    // mark rather than by their handle: a user may have registered that handle before it was reserved.
    id: 3,
    name: 'system accounts',
    sql: `
ALTER TABLE accounts ADD COLUMN system_role TEXT;
CREATE UNIQUE INDEX accounts_system_role ON accounts(system_role)
`,
  },
  {
    // "My reminders" reads them by account; the primary key serves reading them by Space.
    id: 4,
    name: 'reminders by account',
    sql: `CREATE INDEX reminders_by_account ON reminders(account_id)`,
  },
  {
    // Reminders that reach people (src/control/notify/): where to reach an account, a host's webhooks,
    // and the outbox. A delivery's key says what it is for (e.g. live:<space>:<account>:email), so
    // enqueueing it twice, from any node, keeps one row: at most one message per person and channel.
    id: 5,
    name: 'notifications',
    sql: `
CREATE TABLE contacts (
  account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  verified_at BIGINT,
  reminders_by_email INTEGER NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_by_account ON webhooks(account_id);
CREATE TABLE push_subscriptions (
  endpoint TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX push_by_account ON push_subscriptions(account_id);
CREATE TABLE server_keys (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE deliveries (
  key TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,
  account_id TEXT NOT NULL,
  space_id TEXT,
  event TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_at BIGINT NOT NULL,
  claimed_until BIGINT,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries(state, next_at);
CREATE INDEX spaces_started ON spaces(started_at);
CREATE INDEX spaces_ended ON spaces(ended_at)
`,
  },
  {
    // A host may delete a replay: the Space stays (and its history), the recording goes. Scheduled
    // Spaces by start, for the "starting soon" reminders' sweep. Clips: 5-60 s of a recording, shared.
    id: 6,
    name: 'replays: deletion, clips; scheduled index',
    sql: `
ALTER TABLE spaces ADD COLUMN replay_deleted_at BIGINT;
CREATE INDEX spaces_scheduled_start ON spaces(state, scheduled_start);
CREATE TABLE clips (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  start_ms BIGINT NOT NULL,
  end_ms BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX clips_by_space ON clips(space_id)
`,
  },
  {
    // Hosts and moderators: profiles (avatar as base64 text, both databases alike), operators (admin),
    // suspension; topics; co-hosts ending; follows; host-level blocks; reports and their decisions;
    // the audit log; who listened (the audience) and per-minute figures for the host's analytics.
    id: 7,
    name: 'community: profiles, follows, blocks, reports, audit, analytics',
    sql: `
ALTER TABLE accounts ADD COLUMN display_name TEXT;
ALTER TABLE accounts ADD COLUMN bio TEXT;
ALTER TABLE accounts ADD COLUMN avatar_type TEXT;
ALTER TABLE accounts ADD COLUMN avatar_data TEXT;
ALTER TABLE accounts ADD COLUMN avatar_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN suspended_at BIGINT;
ALTER TABLE spaces ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE spaces ADD COLUMN cohosts_may_end INTEGER NOT NULL DEFAULT 0;
CREATE INDEX spaces_host ON spaces(host_id, created_at);
CREATE TABLE follows (
  follower_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  host_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (follower_id, host_id)
);
CREATE INDEX follows_host ON follows(host_id);
CREATE TABLE host_blocks (
  host_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (host_id, account_id)
);
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  reporter_id TEXT NOT NULL REFERENCES accounts(id),
  kind TEXT NOT NULL CHECK (kind IN ('space', 'replay', 'user')),
  space_id TEXT REFERENCES spaces(id),
  subject_id TEXT NOT NULL REFERENCES accounts(id),
  reason TEXT NOT NULL,
  details TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'decided')),
  decision TEXT,
  statement TEXT,
  decided_by TEXT,
  decided_at BIGINT
);
CREATE INDEX reports_status ON reports(status, created_at);
CREATE INDEX reports_subject ON reports(subject_id, decided_at);
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  space_id TEXT,
  actor_id TEXT NOT NULL,
  action TEXT NOT NULL,
  target_id TEXT,
  detail TEXT,
  at BIGINT NOT NULL
);
CREATE INDEX audit_by_space ON audit_log(space_id, at);
CREATE INDEX audit_by_time ON audit_log(at);
CREATE TABLE audience (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  first_at BIGINT NOT NULL,
  last_at BIGINT NOT NULL,
  PRIMARY KEY (space_id, subject)
);
CREATE TABLE space_stats (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  minute BIGINT NOT NULL,
  joins INTEGER NOT NULL,
  queued INTEGER NOT NULL,
  from_line INTEGER NOT NULL,
  max_wait_ms BIGINT NOT NULL,
  replay_plays INTEGER NOT NULL,
  reactions INTEGER NOT NULL,
  peak_listeners INTEGER NOT NULL,
  PRIMARY KEY (space_id, minute)
)
`,
  },
  {
    // Replays' transcripts, line by line (from the live captions), for search: the lines of one Space
    // in order, and deleted with it. The search itself scans (LOWER(text) LIKE, as Space search does).
    id: 8,
    name: 'transcript lines',
    sql: `
CREATE TABLE transcript_lines (
  space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
  start_ms BIGINT NOT NULL,
  end_ms BIGINT NOT NULL,
  text TEXT NOT NULL
);
CREATE INDEX transcript_lines_by_space ON transcript_lines(space_id, start_ms)
`,
  },
  {
    // The host's live-captions toggle, kept so that a restarted or new media node applies it again.
    id: 9,
    name: 'captions choice',
    sql: `
CREATE TABLE space_captions (
  space_id TEXT PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,
  captions_on INTEGER NOT NULL,
  chosen_at BIGINT NOT NULL
)
`,
  },
];

/**
 * Applies pending migrations in one transaction; safe to call on every start, and from several
 * processes starting at once: PostgreSQL takes an advisory lock, SQLite's BEGIN IMMEDIATE serialises.
 */
export async function migrate(driver: SqlDriver, nowMs: number): Promise<number[]> {
  return driver.transaction(async (tx) => {
    if (driver.dialect === 'postgres') await tx.all('SELECT pg_advisory_xact_lock(7263744) AS locked');
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const applied = new Set((await tx.all('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      for (const statement of m.sql
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.run(statement);
      }
      await tx.run('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)', [m.id, m.name, nowMs]);
      done.push(m.id);
    }
    return done;
  });
}
