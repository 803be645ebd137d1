-- Customer cases (inquiries and complaints) with their state transitions, each region's case
-- settings, and the feedback customers give (CSAT).

CREATE TABLE cases (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id   bigint NOT NULL REFERENCES customers (id),
    contact_id    bigint REFERENCES contacts (id),
    -- The customer's region, kept on the row so that scope filters need no join.
    region        text NOT NULL REFERENCES regions (code),
    kind          text NOT NULL CHECK (kind IN ('inquiry', 'complaint')),
    channel       text CHECK (channel IN ('email', 'phone', 'chat', 'web', 'in_person', 'social')),
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    description   text CHECK (length(description) <= 10000),
    priority      text NOT NULL DEFAULT 'normal' CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    state         text NOT NULL DEFAULT 'new'
                  CHECK (state IN ('new', 'open', 'pending_customer', 'pending_internal', 'resolved', 'closed')),
    -- The team that owns the case: the support team of the customer's region unless given.
    team          text NOT NULL REFERENCES teams (slug),
    resolution    text CHECK (length(resolution) BETWEEN 1 AND 5000),
    -- The owning team's task for the case: queued when it opened, again when it reopened.
    task_id       bigint REFERENCES tasks (id),
    resolved_at   timestamptz,
    closed_at     timestamptz,
    reopen_count  integer NOT NULL DEFAULT 0,
    -- Bumped by every edit and state change: the ETag that If-Match names.
    version       integer NOT NULL DEFAULT 1,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Deleted cases stay for the audit trail; only an admin deletes.
    deleted_at    timestamptz
);

CREATE INDEX cases_region_idx ON cases (region, id) WHERE deleted_at IS NULL;
CREATE INDEX cases_customer_idx ON cases (customer_id, id) WHERE deleted_at IS NULL;
CREATE INDEX cases_team_idx ON cases (team, id) WHERE deleted_at IS NULL;

-- Every state change of a case (its opening included, from NULL): who, when, why.
CREATE TABLE case_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    from_state  text,
    to_state    text NOT NULL,
    actor       text,
    note        text CHECK (length(note) <= 5000),
    at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX case_transitions_case_idx ON case_transitions (case_id, id);

-- Per region: how long after its resolution a case may still be reopened (14 days when a
-- region has no row).
CREATE TABLE case_settings (
    region              text PRIMARY KEY REFERENCES regions (code),
    reopen_window_days  integer NOT NULL CHECK (reopen_window_days BETWEEN 0 AND 3650),
    updated_by          text,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feedback (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id),
    case_id      bigint REFERENCES cases (id),
    -- Orders do not exist yet: a plain number, with no foreign key until they do.
    order_id     bigint,
    -- The customer's region, and the owning team of the case when there is one, as they were
    -- when the feedback came: CSAT per region and team reads them without joins.
    region       text NOT NULL REFERENCES regions (code),
    team         text REFERENCES teams (slug),
    score        smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      text CHECK (length(comment) <= 5000),
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX feedback_customer_idx ON feedback (customer_id, id);
CREATE INDEX feedback_case_idx ON feedback (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX feedback_region_time_idx ON feedback (region, created_at);
