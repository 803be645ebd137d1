-- Retention: history that does not grow forever. A pruner in every server (and `batonctl
-- prune`) deletes finished tasks, events and finished webhook deliveries older than their
-- configured ages, a small batch per transaction.

-- One row per kind of history: the pruners' lock (taken with SKIP LOCKED in each batch's
-- transaction, so several servers neither wait for each other nor delete the same rows) and
-- what has gone. For events it is also the feed's horizon: every event up to (after_xid,
-- after_id) in feed order is past retention, so a follower whose cursor is at or before it
-- gets 410 instead of a silent gap; max_id is the largest id ever pruned, which tells a
-- pruned cursor (410) from one that never named an event (400).
CREATE TABLE retention_marks (
    kind         text PRIMARY KEY CHECK (kind IN ('tasks', 'events', 'webhook_deliveries')),
    after_xid    xid8 NOT NULL DEFAULT '0',
    after_id     bigint NOT NULL DEFAULT 0,
    max_id       bigint NOT NULL DEFAULT 0,
    pruned_rows  bigint NOT NULL DEFAULT 0,
    pruned_at    timestamptz
);

INSERT INTO retention_marks (kind) VALUES ('tasks'), ('events'), ('webhook_deliveries');

-- The pruner's path through finished tasks, oldest first (the system queue's deliveries have
-- their own age and path). A task enters it once, when it finishes; the claim path never
-- touches it. Walking tasks by id instead assumed ids follow time, which history loaded or
-- imported later does not.
CREATE INDEX tasks_finished_idx ON tasks (finished_at, id)
    WHERE state IN ('done', 'dead', 'cancelled', 'handed_off') AND team <> 'baton.webhooks';

-- Deleting a task makes PostgreSQL look for rows that still reference it; without an index on
-- each referencing column that look is a scan of the whole table per deleted task. Only rows
-- with a reference are indexed, so the writes that set none pay nothing.
CREATE INDEX tasks_handed_off_from_idx ON tasks (handed_off_from) WHERE handed_off_from IS NOT NULL;
CREATE INDEX interactions_follow_up_task_idx ON interactions (follow_up_task_id) WHERE follow_up_task_id IS NOT NULL;
CREATE INDEX cases_task_idx ON cases (task_id) WHERE task_id IS NOT NULL;
CREATE INDEX stock_movements_task_idx ON stock_movements (task_id) WHERE task_id IS NOT NULL;

-- A rule's firing records that it reacted to an event; it goes with the event.
CREATE INDEX rule_firings_event_idx ON rule_firings (event_id);
