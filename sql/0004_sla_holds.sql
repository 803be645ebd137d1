-- Refinements of the SLA schema (0003) for holds and paused clocks. Written so that it also
-- applies cleanly to a development database whose 0003 already had them.

-- Held tasks leave the claim path: the claim statement filters on held_at IS NULL, and the
-- partial index says the same so a claim never steps over held rows.
DROP INDEX IF EXISTS tasks_claim_idx;
CREATE INDEX tasks_claim_idx ON tasks (team, priority, run_at, id) WHERE state = 'queued' AND held_at IS NULL;

-- The monitor's paths: running (not paused) clocks not yet reported. A paused clock leaves
-- them until it resumes, so a long hold is not rescanned on every sweep.
DROP INDEX IF EXISTS sla_clocks_breach_idx;
CREATE INDEX sla_clocks_breach_idx ON sla_clocks (due_at) WHERE breached_at IS NULL AND NOT settled AND paused_at IS NULL;
DROP INDEX IF EXISTS sla_clocks_risk_idx;
CREATE INDEX sla_clocks_risk_idx ON sla_clocks (at_risk_at)
    WHERE at_risk_emitted_at IS NULL AND NOT settled AND paused_at IS NULL;

-- A clock stopped while paused was met when the business time it had used was under its
-- target; its due instant means nothing while paused.
CREATE OR REPLACE FUNCTION baton_stop_sla_clocks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH stopped AS (
        UPDATE sla_clocks
        SET stopped_at = now(),
            stop_reason = NEW.state,
            -- In time: a running clock by its due instant, a paused one by the time it had used.
            settled = breached_at IS NULL
                      AND CASE WHEN paused_at IS NOT NULL THEN consumed_seconds < target_seconds ELSE now() <= due_at END
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
