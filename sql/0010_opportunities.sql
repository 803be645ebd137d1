-- The sales pipeline: each region's stages and lost reasons, opportunities with their
-- transitions, and the marketing campaigns that source customers and opportunities.

-- A region's stages in order, with the probability that an opportunity in each is won (the
-- weight of the weighted pipeline unless the opportunity names its own). A stage taken out of
-- the list is kept inactive, so closed opportunities and old transitions still name it.
CREATE TABLE pipeline_stages (
    region       text NOT NULL REFERENCES regions (code),
    stage        text NOT NULL CHECK (stage ~ '^[a-z][a-z0-9_]{0,39}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position     integer NOT NULL,
    probability  integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (region, stage)
);

-- Why deals are lost, from a list per region (a free-text reason cannot be counted).
CREATE TABLE lost_reasons (
    region    text NOT NULL REFERENCES regions (code),
    reason    text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]{0,39}$'),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position  integer NOT NULL,
    active    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (region, reason)
);

-- Every region starts with the same stages and reasons; PUT /v1/regions/{code}/pipeline
-- changes them.
CREATE FUNCTION baton_seed_pipeline(region_code text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO pipeline_stages (region, stage, name, position, probability)
    VALUES (region_code, 'new', 'New', 1, 10), (region_code, 'qualified', 'Qualified', 2, 25),
           (region_code, 'proposal', 'Proposal', 3, 50), (region_code, 'negotiation', 'Negotiation', 4, 75)
    ON CONFLICT DO NOTHING;
    INSERT INTO lost_reasons (region, reason, name, position)
    VALUES (region_code, 'price', 'Price', 1), (region_code, 'competitor', 'Went with a competitor', 2),
           (region_code, 'no_budget', 'No budget', 3), (region_code, 'no_decision', 'No decision', 4),
           (region_code, 'timing', 'Timing', 5), (region_code, 'product_fit', 'Product does not fit', 6),
           (region_code, 'other', 'Other', 7)
    ON CONFLICT DO NOTHING;
$$;

CREATE FUNCTION baton_seed_region_pipeline() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM baton_seed_pipeline(NEW.code);
    RETURN NEW;
END;
$$;

CREATE TRIGGER regions_seed_pipeline AFTER INSERT ON regions FOR EACH ROW EXECUTE FUNCTION baton_seed_region_pipeline();

SELECT baton_seed_pipeline(code) FROM regions;

CREATE TABLE campaigns (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region        text NOT NULL REFERENCES regions (code),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channel       text NOT NULL CHECK (channel IN ('email', 'social', 'search', 'events', 'partner', 'print', 'referral', 'other')),
    budget_minor  bigint NOT NULL DEFAULT 0 CHECK (budget_minor >= 0),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    starts_on     date,
    ends_on       date,
    owner_id      bigint REFERENCES members (id),
    version       integer NOT NULL DEFAULT 1,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);

CREATE INDEX campaigns_region_idx ON campaigns (region, id);

-- The campaign that sourced a customer (a lead it brought in).
ALTER TABLE customers ADD COLUMN campaign_id bigint REFERENCES campaigns (id);
CREATE INDEX customers_campaign_idx ON customers (campaign_id) WHERE campaign_id IS NOT NULL AND deleted_at IS NULL;

CREATE TABLE opportunities (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id       bigint NOT NULL REFERENCES customers (id),
    -- The customer's region, whose stages and reasons apply.
    region            text NOT NULL REFERENCES regions (code),
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    amount_minor      bigint NOT NULL CHECK (amount_minor >= 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    expected_close    date,
    owner_id          bigint REFERENCES members (id),
    -- NULL: the stage's probability.
    probability       integer CHECK (probability BETWEEN 0 AND 100),
    stage             text NOT NULL,
    outcome           text NOT NULL DEFAULT 'open' CHECK (outcome IN ('open', 'won', 'lost')),
    lost_reason       text,
    campaign_id       bigint REFERENCES campaigns (id),
    stage_entered_at  timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz,
    version           integer NOT NULL DEFAULT 1,
    created_by        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    FOREIGN KEY (region, stage) REFERENCES pipeline_stages (region, stage),
    FOREIGN KEY (region, lost_reason) REFERENCES lost_reasons (region, reason),
    CHECK ((outcome = 'lost') = (lost_reason IS NOT NULL)),
    CHECK ((outcome = 'open') = (closed_at IS NULL))
);

CREATE INDEX opportunities_pipeline_idx ON opportunities (region, outcome, stage) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_closed_idx ON opportunities (region, closed_at) WHERE deleted_at IS NULL AND closed_at IS NOT NULL;
CREATE INDEX opportunities_customer_idx ON opportunities (customer_id, id) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_owner_idx ON opportunities (owner_id) WHERE deleted_at IS NULL AND owner_id IS NOT NULL;
CREATE INDEX opportunities_campaign_idx ON opportunities (campaign_id) WHERE campaign_id IS NOT NULL AND deleted_at IS NULL;

-- Every change of stage or outcome: time in stage and days to close derive from these.
CREATE TABLE opportunity_transitions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    opportunity_id  bigint NOT NULL REFERENCES opportunities (id),
    action          text NOT NULL CHECK (action IN ('created', 'stage', 'won', 'lost', 'reopened')),
    from_stage      text,
    to_stage        text NOT NULL,
    from_outcome    text,
    to_outcome      text NOT NULL,
    reason          text,
    note            text CHECK (length(note) <= 2000),
    actor_id        text,
    at              timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX opportunity_transitions_opportunity_idx ON opportunity_transitions (opportunity_id, id);
