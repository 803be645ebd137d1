-- Plans and reports: sales targets with their variance analysis, the market sizes that market
-- share needs, and per region which moment of an order counts in reports.

-- Which moment counts an order in reports: when it was confirmed (the default, also for a
-- region without a row) or when it was delivered. The report currency is the one revenue is
-- summed in; orders in other currencies are left out of money figures and counted apart.
CREATE TABLE report_settings (
    region           text PRIMARY KEY REFERENCES regions (code),
    count_orders_at  text NOT NULL DEFAULT 'confirmed' CHECK (count_orders_at IN ('confirmed', 'delivered')),
    currency         text CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE targets (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_kind         text NOT NULL CHECK (owner_kind IN ('member', 'team', 'region', 'company')),
    member_id          bigint REFERENCES members (id),
    team               text REFERENCES teams (slug),
    -- The owner's region (a team's region; the region a member target is set in); null for
    -- the company. Scope checks use it.
    region             text REFERENCES regions (code),
    metric             text NOT NULL CHECK (metric IN ('revenue', 'orders', 'new_customers', 'opportunities_won', 'csat')),
    grain              text NOT NULL CHECK (grain IN ('week', 'month', 'quarter', 'year')),
    period_start       date NOT NULL,
    -- Minor units for revenue, a count for orders, customers and deals, percent for CSAT.
    target_value       numeric NOT NULL CHECK (target_value > 0),
    currency           text CHECK (currency ~ '^[A-Z]{3}$'),
    product_category   text CHECK (length(product_category) BETWEEN 1 AND 100),
    notes              text CHECK (length(notes) <= 10000),
    variance_note      text CHECK (length(variance_note) <= 10000),
    next_action        text CHECK (length(next_action) <= 2000),
    next_action_owner  bigint REFERENCES members (id),
    next_action_due    date,
    version            integer NOT NULL DEFAULT 1,
    created_by         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((owner_kind = 'member') = (member_id IS NOT NULL)),
    CHECK ((owner_kind = 'team') = (team IS NOT NULL)),
    CHECK ((owner_kind = 'company') = (region IS NULL)),
    CHECK ((metric = 'revenue') = (currency IS NOT NULL))
);

-- One target per owner, metric, category and period.
CREATE UNIQUE INDEX targets_owner_period_idx ON targets (
    owner_kind, coalesce(member_id, 0), coalesce(team, ''), coalesce(region, ''), metric, coalesce(product_category, ''), grain, period_start);
CREATE INDEX targets_period_idx ON targets (grain, period_start);

-- The size of a region's market in a period (a month `2026-11`, quarter `2026-Q4`, week
-- `2026-W48` or year `2026`), or the share directly when that is what the source gives.
CREATE TABLE market_sizes (
    region         text NOT NULL REFERENCES regions (code),
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2}|-Q[1-4]|-W[0-9]{2})?$'),
    size_minor     bigint CHECK (size_minor > 0),
    currency       text CHECK (currency ~ '^[A-Z]{3}$'),
    share_percent  numeric CHECK (share_percent >= 0 AND share_percent <= 100),
    source         text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
    updated_by     text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (region, period),
    CHECK ((size_minor IS NULL) = (currency IS NULL)),
    CHECK (size_minor IS NOT NULL OR share_percent IS NOT NULL)
);

-- Reports count orders by when they were delivered too, and new customers by creation.
CREATE INDEX orders_delivered_idx ON orders (region, delivered_at) WHERE delivered_at IS NOT NULL;
CREATE INDEX customers_created_idx ON customers (region, created_at) WHERE deleted_at IS NULL;
