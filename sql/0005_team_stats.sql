-- Team stats count a team's queued tasks from partial indexes whatever its history: claimable
-- ones through tasks_claim_idx (0004), held ones through this index. Without it, counting
-- `state = 'queued'` matched neither and scanned the whole table (342 ms at 1.1M rows).
CREATE INDEX tasks_held_idx ON tasks (team) WHERE state = 'queued' AND held_at IS NOT NULL;
