-- Wake-ups leave the writing transaction. A NOTIFY inside a transaction serialises the commit
-- of every notifying transaction in the cluster on one lock, and these triggers made every
-- task and event write a notifying transaction. Baton now wakes its own waiters when a write
-- commits and tells the other servers with one coalesced NOTIFY per channel and team every few
-- milliseconds, outside the writing transaction (BatonCore's Wakeups); waiters still poll every
-- second, so a write made outside Baton is noticed within a second.
DROP TRIGGER IF EXISTS tasks_notify_queued ON tasks;
DROP FUNCTION IF EXISTS baton_notify_task_queued();
DROP TRIGGER IF EXISTS events_notify ON events;
DROP FUNCTION IF EXISTS baton_notify_events();
