-- Meetings with their attendees (members and customer contacts), and training programmes
-- with generated sessions and attendance.

CREATE TABLE meetings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region          text NOT NULL REFERENCES regions (code),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    -- The wall clock the meeting was planned in (IANA name); times are stored as instants.
    time_zone       text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    organiser_id    bigint NOT NULL REFERENCES members (id),
    customer_id     bigint REFERENCES customers (id),
    opportunity_id  bigint REFERENCES opportunities (id),
    location        text CHECK (length(location) <= 500),
    agenda          text CHECK (length(agenda) <= 10000),
    notes           text CHECK (length(notes) <= 10000),
    outcome         text CHECK (length(outcome) <= 10000),
    cancelled_at    timestamptz,
    version         integer NOT NULL DEFAULT 1,
    created_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

CREATE INDEX meetings_region_idx ON meetings (region, id);

-- The organiser is an attendee too, so one query finds everyone's bookings.
CREATE TABLE meeting_attendees (
    meeting_id  bigint NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    member_id   bigint REFERENCES members (id),
    contact_id  bigint REFERENCES contacts (id),
    CHECK ((member_id IS NULL) <> (contact_id IS NULL))
);

CREATE UNIQUE INDEX meeting_attendees_member_idx ON meeting_attendees (meeting_id, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX meeting_attendees_contact_idx ON meeting_attendees (meeting_id, contact_id) WHERE contact_id IS NOT NULL;
-- The double-booking check and a member's calendar start from the member.
CREATE INDEX meeting_attendees_by_member_idx ON meeting_attendees (member_id, meeting_id) WHERE member_id IS NOT NULL;

-- A training programme: its audience (departments of its region, teams, members), its cadence
-- and the horizon its sessions were generated for.
CREATE TABLE training_programmes (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region                text NOT NULL REFERENCES regions (code),
    title                 text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    goal                  text CHECK (length(goal) <= 2000),
    audience_departments  text[] NOT NULL DEFAULT '{}',
    audience_teams        text[] NOT NULL DEFAULT '{}',
    audience_members      bigint[] NOT NULL DEFAULT '{}',
    -- The competencies the programme builds (codes of `competencies`).
    competencies          text[] NOT NULL DEFAULT '{}',
    cadence_unit          text NOT NULL CHECK (cadence_unit IN ('month', 'week')),
    cadence_every         integer NOT NULL CHECK (cadence_every BETWEEN 1 AND 24),
    duration_minutes      integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    first_session_at      timestamptz NOT NULL,
    time_zone             text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    horizon_months        integer NOT NULL CHECK (horizon_months BETWEEN 1 AND 24),
    owner_id              bigint REFERENCES members (id),
    version               integer NOT NULL DEFAULT 1,
    created_by            text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX training_programmes_region_idx ON training_programmes (region, id);

-- `sequence` is the session's place in the cadence (0 is the first session), so a moved
-- session keeps its place and the next ones are still counted from the first.
CREATE TABLE training_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id  bigint NOT NULL REFERENCES training_programmes (id),
    sequence      integer NOT NULL CHECK (sequence >= 0),
    scheduled_at  timestamptz NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    cancelled_at  timestamptz,
    version       integer NOT NULL DEFAULT 1,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (programme_id, sequence),
    CHECK (ends_at > starts_at)
);

CREATE INDEX training_sessions_starts_idx ON training_sessions (starts_at);

CREATE TABLE training_attendance (
    session_id  bigint NOT NULL REFERENCES training_sessions (id),
    member_id   bigint NOT NULL REFERENCES members (id),
    status      text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'attended', 'excused', 'absent')),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, member_id)
);

CREATE INDEX training_attendance_member_idx ON training_attendance (member_id, session_id);

-- Development paths: the competencies a sales organisation grows, the level (1 to 5) each
-- target role asks for, and each member's current level (0: not yet assessed or none).
CREATE TABLE competencies (
    code  text PRIMARY KEY CHECK (code ~ '^[a-z][a-z_]{1,62}$'),
    name  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

INSERT INTO competencies (code, name) VALUES
    ('team_management', 'Team management'),
    ('customer_communication', 'Customer communication'),
    ('data_analysis', 'Data analysis'),
    ('market_insight', 'Market insight'),
    ('negotiation', 'Negotiation'),
    ('product_knowledge', 'Product knowledge');

CREATE TABLE role_profiles (
    role        text NOT NULL CHECK (role ~ '^[a-z][a-z_]{1,62}$'),
    competency  text NOT NULL REFERENCES competencies (code),
    level       integer NOT NULL CHECK (level BETWEEN 1 AND 5),
    PRIMARY KEY (role, competency)
);

INSERT INTO role_profiles (role, competency, level) VALUES
    ('regional_sales_manager', 'team_management', 4), ('regional_sales_manager', 'customer_communication', 4),
    ('regional_sales_manager', 'data_analysis', 3), ('regional_sales_manager', 'market_insight', 4),
    ('regional_sales_manager', 'negotiation', 4),
    ('account_manager', 'customer_communication', 4), ('account_manager', 'negotiation', 3),
    ('account_manager', 'product_knowledge', 3), ('account_manager', 'market_insight', 2),
    ('sales_operations_manager', 'data_analysis', 4), ('sales_operations_manager', 'team_management', 3),
    ('sales_operations_manager', 'product_knowledge', 2),
    ('product_manager', 'product_knowledge', 5), ('product_manager', 'market_insight', 4),
    ('product_manager', 'data_analysis', 3), ('product_manager', 'customer_communication', 3);

CREATE TABLE member_competencies (
    member_id   bigint NOT NULL REFERENCES members (id),
    competency  text NOT NULL REFERENCES competencies (code),
    level       integer NOT NULL CHECK (level BETWEEN 0 AND 5),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, competency)
);
