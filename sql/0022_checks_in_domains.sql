-- PostgreSQL reads a table's CHECK constraints back from their stored text (stringToNode) in
-- every statement that inserts or updates a row of the table, whichever columns it changes: on
-- tasks that was about a sixth of the backend's time per claim and completion (perf, the bench's
-- SQL lifecycle). A domain's constraint is compiled once per session (the type cache) and is
-- checked only where a value of the domain is written, so the limits on what a task is created
-- with, which no state change touches, move into domains; the same guarantees, under the same
-- SQLSTATE (23514, check_violation).
--
-- The columns change type to domains without constraints first (text to a domain over text
-- needs no rewrite and no index is built again), then the domains gain their constraints,
-- checked against the rows already there.

CREATE DOMAIN baton_task_kind AS text;
CREATE DOMAIN baton_task_title AS text;
CREATE DOMAIN baton_json_object AS jsonb;
CREATE DOMAIN baton_max_attempts AS integer;
CREATE DOMAIN baton_backoff_seconds AS integer;
CREATE DOMAIN baton_event_source AS text;

ALTER TABLE tasks
    ALTER COLUMN kind TYPE baton_task_kind,
    ALTER COLUMN title TYPE baton_task_title,
    ALTER COLUMN payload TYPE baton_json_object,
    ALTER COLUMN max_attempts TYPE baton_max_attempts,
    ALTER COLUMN backoff_base_seconds TYPE baton_backoff_seconds,
    DROP CONSTRAINT tasks_kind_check,
    DROP CONSTRAINT tasks_title_check,
    DROP CONSTRAINT tasks_payload_check,
    DROP CONSTRAINT tasks_max_attempts_check,
    DROP CONSTRAINT tasks_backoff_base_seconds_check;
ALTER TABLE events
    ALTER COLUMN source TYPE baton_event_source,
    DROP CONSTRAINT events_source_check;

ALTER DOMAIN baton_task_kind ADD CONSTRAINT baton_task_kind_check CHECK (length(VALUE) BETWEEN 1 AND 100);
ALTER DOMAIN baton_task_title ADD CONSTRAINT baton_task_title_check CHECK (length(VALUE) BETWEEN 1 AND 500);
ALTER DOMAIN baton_json_object ADD CONSTRAINT baton_json_object_check CHECK (jsonb_typeof(VALUE) = 'object');
ALTER DOMAIN baton_max_attempts ADD CONSTRAINT baton_max_attempts_check CHECK (VALUE BETWEEN 1 AND 100);
ALTER DOMAIN baton_backoff_seconds ADD CONSTRAINT baton_backoff_seconds_check CHECK (VALUE BETWEEN 1 AND 86400);
ALTER DOMAIN baton_event_source ADD CONSTRAINT baton_event_source_check CHECK (VALUE IN ('api', 'cli', 'system'));
