-- A task's writes at the least a durable queue with an event log needs. Every state change
-- writes a new row version into every index of tasks (state is in the partial indexes'
-- predicates, so no update is HOT); what each one costs and buys was measured with pgbench
-- against the bare lifecycle (scripts/bench.sh).

-- Every insert checked the team with SELECT ... FOR KEY SHARE on the team's row; with many
-- writers on one team, that lock turned into a MultiXact on every insert. Teams are never
-- deleted, and the statements that insert tasks take the team from teams itself (an unknown
-- team inserts nothing), so the check only cost.
ALTER TABLE tasks DROP CONSTRAINT tasks_team_fkey;

-- A GIN entry for every row version, tags or not; only tasks with tags are ever looked up by tag.
DROP INDEX tasks_tags_idx;
CREATE INDEX tasks_tags_idx ON tasks USING gin (tags) WHERE tags <> '{}';

-- A task that was never handed off is a chain of one: only chains with more than one step are
-- looked up by chain (the first step is handed_off, every later one has handed_off_from).
DROP INDEX tasks_chain_idx;
CREATE INDEX tasks_chain_idx ON tasks (chain_id, id) WHERE handed_off_from IS NOT NULL OR state = 'handed_off';

-- A team's events are found through the feed index with the team as a filter, as a scoped
-- follower's are; this second copy of the feed cost an index entry per event.
DROP INDEX events_team_idx;

-- Lifetime totals of finished states are written by the statements that finish tasks (complete,
-- cancel, handoff), one delta row per statement and team, instead of a PL/pgSQL trigger per row.
DROP TRIGGER tasks_count_finished ON tasks;
DROP FUNCTION baton_count_finished();
