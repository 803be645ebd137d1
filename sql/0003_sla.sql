-- SLAs and escalation: business calendars per region, SLA/OLA policies, one clock per task
-- and target, escalation levels, and holds that pause the clocks.

-- The coordinators themselves: escalations can create work for a region's coordination team.
INSERT INTO departments (code, name) VALUES ('coordination', 'Sales coordination');

-- Working hours per weekday in the region's time zone (regions.time_zone), e.g.
-- {"monday": [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "18:00"}], ...}.
-- A region without a row works Monday to Friday, 09:00-17:00.
CREATE TABLE region_calendars (
    region      text PRIMARY KEY REFERENCES regions (code),
    hours       jsonb NOT NULL CHECK (jsonb_typeof(hours) = 'object'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE region_holidays (
    region      text NOT NULL REFERENCES regions (code),
    day         date NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, day)
);

-- Which tasks a policy covers (every filter given must match; tags match when the task has
-- any of them) and its targets in business minutes. `kind` says whether it is a customer-facing
-- SLA or an internal OLA between departments; `from_department` limits it to tasks handed off
-- from that department. `escalations` is the ordered list of levels.
CREATE TABLE sla_policies (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind                  text NOT NULL CHECK (kind IN ('sla', 'ola')),
    team                  text REFERENCES teams (slug),
    department            text REFERENCES departments (code),
    task_kind             text CHECK (length(task_kind) BETWEEN 1 AND 100),
    priority              smallint CHECK (priority BETWEEN 0 AND 3),
    tags                  text[] NOT NULL DEFAULT '{}',
    from_department       text REFERENCES departments (code),
    claim_within_minutes  integer CHECK (claim_within_minutes BETWEEN 1 AND 5256000),
    done_within_minutes   integer CHECK (done_within_minutes BETWEEN 1 AND 5256000),
    calendar_region       text REFERENCES regions (code),
    escalations           jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(escalations) = 'array'),
    active                boolean NOT NULL DEFAULT true,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (claim_within_minutes IS NOT NULL OR done_within_minutes IS NOT NULL),
    CHECK (team IS NULL OR department IS NULL)
);

-- The policy a task's clocks came from (NULL: no SLA, and the clock trigger below stays idle),
-- and its hold: held time does not count against its clocks.
ALTER TABLE tasks ADD COLUMN sla_policy_id bigint REFERENCES sla_policies (id);
ALTER TABLE tasks ADD COLUMN held_at timestamptz;
ALTER TABLE tasks ADD COLUMN hold_until timestamptz;
ALTER TABLE tasks ADD COLUMN hold_reason text;
CREATE INDEX tasks_hold_until_idx ON tasks (hold_until) WHERE hold_until IS NOT NULL AND state IN ('queued', 'claimed');

-- One clock per task and target. Business time is counted in the application (calendars
-- with DST and holidays): consumed_seconds is the business time used before running_since,
-- and due_at / at_risk_at are the instants the remaining time runs out / 80% is used,
-- recomputed whenever a paused clock resumes. A clock is settled when it stopped in time;
-- unsettled, unbreached clocks are what the monitor watches.
CREATE TABLE sla_clocks (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id             bigint NOT NULL REFERENCES tasks (id),
    policy_id           bigint NOT NULL REFERENCES sla_policies (id),
    target              text NOT NULL CHECK (target IN ('claim_within', 'done_within')),
    team                text NOT NULL,
    region              text NOT NULL,
    calendar_region     text NOT NULL,
    target_seconds      bigint NOT NULL CHECK (target_seconds > 0),
    started_at          timestamptz NOT NULL,
    running_since       timestamptz,
    consumed_seconds    bigint NOT NULL DEFAULT 0,
    paused_at           timestamptz,
    at_risk_at          timestamptz NOT NULL,
    due_at              timestamptz NOT NULL,
    at_risk_emitted_at  timestamptz,
    breached_at         timestamptz,
    stopped_at          timestamptz,
    stop_reason         text,
    settled             boolean NOT NULL DEFAULT false,
    UNIQUE (task_id, target)
);

CREATE INDEX sla_clocks_breach_idx ON sla_clocks (due_at) WHERE breached_at IS NULL AND NOT settled;
CREATE INDEX sla_clocks_risk_idx ON sla_clocks (at_risk_at) WHERE at_risk_emitted_at IS NULL AND NOT settled;
CREATE INDEX sla_clocks_breached_idx ON sla_clocks (team, breached_at) WHERE breached_at IS NOT NULL;
CREATE INDEX sla_clocks_task_idx ON sla_clocks (task_id);
CREATE INDEX sla_clocks_team_stopped_idx ON sla_clocks (team, stopped_at) WHERE stopped_at IS NOT NULL;

-- Escalation levels of each clock with the instant each becomes due (business time after the
-- breach or the at-risk point). A level fires once: the monitor locks the row, acts and sets
-- fired_at in one transaction.
CREATE TABLE sla_escalations (
    clock_id   bigint NOT NULL REFERENCES sla_clocks (id),
    level      integer NOT NULL CHECK (level >= 1),
    basis      text NOT NULL CHECK (basis IN ('at_risk', 'breach')),
    spec       jsonb NOT NULL,
    fire_at    timestamptz NOT NULL,
    fired_at   timestamptz,
    outcome    text,
    PRIMARY KEY (clock_id, level)
);

CREATE INDEX sla_escalations_due_idx ON sla_escalations (fire_at) WHERE fired_at IS NULL;

-- A task's clocks stop with it, in the same transaction as the change, whichever path made it
-- (claim, complete, handoff, cancel, the lease reaper): claiming stops the claim clock,
-- finishing stops all. Pending escalations of a stopped clock are closed.
CREATE FUNCTION baton_stop_sla_clocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH stopped AS (
        UPDATE sla_clocks
        SET stopped_at = now(),
            stop_reason = NEW.state,
            settled = breached_at IS NULL AND (paused_at IS NOT NULL OR now() <= due_at)
        WHERE task_id = NEW.id AND stopped_at IS NULL
          AND (NEW.state <> 'claimed' OR target = 'claim_within')
        RETURNING id
    )
    UPDATE sla_escalations e SET fired_at = now(), outcome = 'not_needed'
    FROM stopped
    WHERE e.clock_id = stopped.id AND e.fired_at IS NULL;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_stop_sla_clocks
    AFTER UPDATE OF state ON tasks
    FOR EACH ROW WHEN (NEW.sla_policy_id IS NOT NULL AND NEW.state IS DISTINCT FROM OLD.state AND NEW.state <> 'queued')
    EXECUTE FUNCTION baton_stop_sla_clocks();
