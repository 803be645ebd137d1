-- Signed webhooks: subscriptions, the log of their deliveries, and the dispatcher's place in
-- the event feed. Deliveries are tasks in the system queue `baton.webhooks` (not a team: the
-- name cannot be a team slug, so no department view, team list or scope ever reaches it); each
-- has one row here that says which subscription and event it carries and how it went.

CREATE TABLE webhooks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url              text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- `*`, an exact type (`stock.below_reorder`) or a prefix (`order.*`).
    event_types      text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 50),
    -- The HMAC key. Signing needs the key itself, so it is stored as given (not hashed) and
    -- only the create response ever shows it.
    secret           text NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
    active           boolean NOT NULL DEFAULT true,
    description      text CHECK (length(description) BETWEEN 1 AND 500),
    -- The first failure since the last success; a subscription failing for a day is disabled.
    failing_since    timestamptz,
    disabled_at      timestamptz,
    version          integer NOT NULL DEFAULT 1,
    created_by       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);

CREATE INDEX webhooks_live_idx ON webhooks (id) WHERE active AND deleted_at IS NULL;

-- One row per delivery task (its id is the task's). The dispatcher enqueues each event at most
-- once per subscription (the unique index); a redelivery asked for through the API is another row.
CREATE TABLE webhook_deliveries (
    task_id          bigint PRIMARY KEY REFERENCES tasks (id),
    webhook_id       bigint NOT NULL REFERENCES webhooks (id),
    event_id         bigint NOT NULL,
    event_type       text NOT NULL,
    redelivery       boolean NOT NULL DEFAULT false,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'retrying', 'delivered', 'dead', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status      integer,
    last_error       text,
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX webhook_deliveries_once_idx ON webhook_deliveries (webhook_id, event_id) WHERE NOT redelivery;
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, task_id);
CREATE INDEX webhook_deliveries_open_idx ON webhook_deliveries (webhook_id) WHERE state IN ('pending', 'retrying');

-- The dispatcher's cursor in feed order (xid, id): one row, locked by whichever server
-- dispatches, and moved in the transaction that enqueues the deliveries of the events it passes.
-- It starts at the end of the log: subscriptions receive what happens after they exist.
CREATE TABLE webhook_dispatch (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    after_xid   xid8 NOT NULL,
    after_id    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO webhook_dispatch (after_xid, after_id)
SELECT coalesce(last.xid, '0'::xid8), coalesce(last.id, 0)
FROM (SELECT NULL) AS start
LEFT JOIN LATERAL (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1) AS last ON true;
