-- Department queues: members and tokens, tasks with leases and handoff chains,
-- idempotency records and the counters behind team stats.

ALTER TABLE teams ADD COLUMN backoff_base_seconds integer NOT NULL DEFAULT 10
    CHECK (backoff_base_seconds BETWEEN 1 AND 86400);
ALTER TABLE teams ADD COLUMN backoff_max_seconds integer NOT NULL DEFAULT 3600
    CHECK (backoff_max_seconds BETWEEN 1 AND 604800);

CREATE TABLE members (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX members_email_idx ON members (lower(email));

CREATE TABLE memberships (
    member_id   bigint NOT NULL REFERENCES members (id),
    team        text NOT NULL REFERENCES teams (slug),
    role        text NOT NULL CHECK (role IN ('lead', 'agent', 'viewer')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, team)
);

-- Secrets are shown once and stored as SHA-256 only. An empty teams/regions list means the
-- role's default reach; a non-empty one narrows the token to those teams and regions.
CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    secret_hash   bytea NOT NULL UNIQUE,
    secret_hint   text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'coordinator', 'lead', 'agent', 'viewer')),
    member_id     bigint REFERENCES members (id),
    teams         text[] NOT NULL DEFAULT '{}',
    regions       text[] NOT NULL DEFAULT '{}',
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
    id                    bigserial PRIMARY KEY,
    team                  text NOT NULL REFERENCES teams (slug),
    region                text NOT NULL,
    kind                  text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    title                 text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    payload               jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    -- 0 urgent, 1 high, 2 normal, 3 low: ascending order is claim order.
    priority              smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 3),
    state                 text NOT NULL DEFAULT 'queued'
                          CHECK (state IN ('queued', 'claimed', 'done', 'dead', 'cancelled', 'handed_off')),
    run_at                timestamptz NOT NULL DEFAULT now(),
    due_at                timestamptz,
    attempts              integer NOT NULL DEFAULT 0,
    max_attempts          integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 100),
    backoff_base_seconds  integer CHECK (backoff_base_seconds BETWEEN 1 AND 86400),
    lease_worker          text,
    lease_token           uuid,
    lease_expires_at      timestamptz,
    result                jsonb,
    last_error            text,
    dedupe_key            text CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    subject_type          text,
    subject_id            text,
    tags                  text[] NOT NULL DEFAULT '{}',
    created_by            text,
    handed_off_from       bigint REFERENCES tasks (id),
    handoff_note          text,
    chain_id              bigint NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    claimed_at            timestamptz,
    finished_at           timestamptz,
    CHECK ((state = 'claimed') = (lease_token IS NOT NULL))
) WITH (fillfactor = 80);

-- The claim path: only queued rows are in this index, so its size is the queue depth and
-- claim cost stays flat however many finished tasks the table holds.
CREATE INDEX tasks_claim_idx ON tasks (team, priority, run_at, id) WHERE state = 'queued';
-- The lease reaper's path: only claimed rows.
CREATE INDEX tasks_lease_idx ON tasks (lease_expires_at) WHERE state = 'claimed';
-- A dedupe key is unique among the live tasks of a team.
CREATE UNIQUE INDEX tasks_dedupe_idx ON tasks (team, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'claimed');
CREATE INDEX tasks_chain_idx ON tasks (chain_id, id);
CREATE INDEX tasks_team_idx ON tasks (team, id);
CREATE INDEX tasks_subject_idx ON tasks (subject_type, subject_id) WHERE subject_type IS NOT NULL;
CREATE INDEX tasks_tags_idx ON tasks USING gin (tags);
-- Stats: recent completions and dead letters, each a small slice of the table.
CREATE INDEX tasks_done_idx ON tasks (team, finished_at) WHERE state = 'done';
CREATE INDEX tasks_dead_idx ON tasks (team, finished_at) WHERE state = 'dead';

-- Wake the team's long-poll waiters in every Baton instance when work becomes claimable.
-- Notifications are sent at commit and duplicates within a transaction collapse into one.
CREATE FUNCTION baton_notify_task_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_tasks', NEW.team);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_notify_queued
    AFTER INSERT OR UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.state = 'queued')
    EXECUTE FUNCTION baton_notify_task_queued();

-- Lifetime totals of finished states come from counters, not COUNT(*) over history. Each
-- transition appends a delta row (no hot row to contend on); the reaper folds deltas into
-- team_task_totals from time to time.
CREATE TABLE team_task_totals (
    team   text NOT NULL,
    state  text NOT NULL,
    total  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (team, state)
);

CREATE TABLE team_task_deltas (
    id     bigserial PRIMARY KEY,
    team   text NOT NULL,
    state  text NOT NULL,
    delta  integer NOT NULL
);

CREATE FUNCTION baton_count_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IN ('done', 'cancelled', 'handed_off') AND NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO team_task_deltas (team, state, delta) VALUES (NEW.team, NEW.state, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_count_finished
    AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.state IN ('done', 'cancelled', 'handed_off'))
    EXECUTE FUNCTION baton_count_finished();

-- Idempotency-Key records: the first response to a key, replayed for 24 hours.
CREATE TABLE idempotency_keys (
    principal     text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Event-feed followers are woken at commit; the feed itself decides what is safe to hand out.
CREATE FUNCTION baton_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('baton_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    FOR EACH STATEMENT
    EXECUTE FUNCTION baton_notify_events();

CREATE INDEX events_team_idx ON events (team, xid, id);
