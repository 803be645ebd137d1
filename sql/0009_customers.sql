-- Customers, their contacts and the interactions with them.

CREATE TABLE customers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region       text NOT NULL REFERENCES regions (code),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    legal_name   text CHECK (length(legal_name) BETWEEN 1 AND 300),
    segment      text CHECK (length(segment) BETWEEN 1 AND 100),
    status       text NOT NULL DEFAULT 'lead' CHECK (status IN ('lead', 'prospect', 'active', 'churned')),
    owner_id     bigint REFERENCES members (id),
    tags         text[] NOT NULL DEFAULT '{}',
    website      text CHECK (length(website) BETWEEN 1 AND 500),
    notes        text CHECK (length(notes) <= 10000),
    -- The name folded for search and duplicate detection (lower case, no accents, narrow forms),
    -- and the grams it is searched by: every character and every pair of neighbouring
    -- characters of the folded name, both written by Baton. A query's grams must all be there,
    -- then the folded name must contain the query: any substring of any script is found
    -- through the index whatever the database's locale. (pg_trgm, the usual answer, keeps only
    -- what the locale calls alphanumeric, and under the C locale that drops every Chinese,
    -- Japanese and Korean character.)
    search_name  text NOT NULL,
    search_grams text[] NOT NULL,
    -- Bumped by every edit: the ETag that If-Match names.
    version      integer NOT NULL DEFAULT 1,
    created_by   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    -- Deleted customers stay for the audit trail; only an admin deletes.
    deleted_at   timestamptz
);

CREATE INDEX customers_search_idx ON customers USING gin (search_grams) WHERE deleted_at IS NULL;
CREATE INDEX customers_duplicate_idx ON customers (region, search_name) WHERE deleted_at IS NULL;
CREATE INDEX customers_owner_idx ON customers (owner_id) WHERE deleted_at IS NULL AND owner_id IS NOT NULL;
CREATE INDEX customers_tags_idx ON customers USING gin (tags) WHERE tags <> '{}';

CREATE TABLE contacts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers (id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role               text CHECK (length(role) BETWEEN 1 AND 200),
    email              text CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    phone              text CHECK (length(phone) BETWEEN 1 AND 50),
    preferred_channel  text CHECK (preferred_channel IN ('email', 'phone', 'sms', 'chat', 'in_person')),
    version            integer NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz
);

CREATE INDEX contacts_customer_idx ON contacts (customer_id, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_email_idx ON contacts (lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE interactions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers (id),
    contact_id         bigint REFERENCES contacts (id),
    kind               text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'note')),
    member_id          bigint REFERENCES members (id),
    occurred_at        timestamptz NOT NULL,
    summary            text NOT NULL CHECK (length(summary) BETWEEN 1 AND 5000),
    follow_up_on       date,
    -- The task the follow-up date created in the owner's team.
    follow_up_task_id  bigint REFERENCES tasks (id),
    created_by         text,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX interactions_customer_idx ON interactions (customer_id, occurred_at DESC, id DESC);
