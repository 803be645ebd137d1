-- Baton's foundation: regions, departments, teams and the append-only event log.
-- schema_migrations is created by the migrator itself before this file runs.

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9]{1,15}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone   text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The four departments a sales coordinator conducts: reference data, not user data.
CREATE TABLE departments (
    code  text PRIMARY KEY,
    name  text NOT NULL
);

INSERT INTO departments (code, name) VALUES
    ('sales', 'Sales'),
    ('marketing', 'Marketing'),
    ('logistics', 'Logistics'),
    ('support', 'Customer support');

-- A team is a department in a region, e.g. logistics-apac.
CREATE TABLE teams (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                   text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,62}$'),
    department             text NOT NULL REFERENCES departments (code),
    region                 text NOT NULL REFERENCES regions (code),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    paused                 boolean NOT NULL DEFAULT false,
    default_lease_seconds  integer NOT NULL DEFAULT 300 CHECK (default_lease_seconds BETWEEN 5 AND 86400),
    default_max_attempts   integer NOT NULL DEFAULT 5 CHECK (default_max_attempts BETWEEN 1 AND 100),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX teams_region_idx ON teams (region);

-- Every state change appends one row here in the same transaction as the change.
-- xid records the writing transaction: the feed hands out only events whose transaction has
-- ended (xid below the oldest running transaction) in (xid, id) order, so an event committed
-- late with a small id is never skipped.
CREATE TABLE events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL DEFAULT 'system' CHECK (source IN ('api', 'cli', 'system')),
    actor_type   text,
    actor_id     text,
    entity_type  text,
    entity_id    text,
    team         text,
    region       text,
    data         jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX events_feed_idx ON events (xid, id);
CREATE INDEX events_entity_idx ON events (entity_type, entity_id, id);
