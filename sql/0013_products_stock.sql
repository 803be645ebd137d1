-- Products, stock per product and region (the region's warehouse), and the ledger of every
-- stock movement, from which the balances can be recomputed (batonctl stock verify).

CREATE TABLE products (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku               text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    category          text CHECK (length(category) BETWEEN 1 AND 100),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    active            boolean NOT NULL DEFAULT true,
    version           integer NOT NULL DEFAULT 1,
    created_by        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock (
    product_id        bigint NOT NULL REFERENCES products (id),
    region            text NOT NULL REFERENCES regions (code),
    on_hand           bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved          bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    reorder_point     bigint NOT NULL DEFAULT 0 CHECK (reorder_point >= 0),
    reorder_quantity  bigint NOT NULL DEFAULT 0 CHECK (reorder_quantity >= 0),
    snoozed_until     timestamptz,
    -- Set when available stock crossed down to the reorder point and a restock task was
    -- queued (or the crossing fell in a snooze); cleared when it rises above again, which
    -- re-arms the alert. One task per crossing, not one per movement.
    below_reorder     boolean NOT NULL DEFAULT false,
    -- 0 until the first change: what GET reads for a product never stocked in the region.
    version           integer NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, region)
);

CREATE INDEX stock_region_idx ON stock (region, product_id);
CREATE INDEX stock_below_reorder_idx ON stock (region) WHERE below_reorder;

CREATE TABLE stock_movements (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id        bigint NOT NULL,
    region            text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('receipt', 'adjustment', 'reservation', 'release', 'shipment')),
    -- What the movement did to the balances: on hand and reserved.
    on_hand_delta     bigint NOT NULL,
    reserved_delta    bigint NOT NULL DEFAULT 0,
    reason            text CHECK (length(reason) BETWEEN 1 AND 500),
    -- The order it belongs to (orders come later); the restock task it queued, if any.
    order_id          bigint,
    task_id           bigint REFERENCES tasks (id),
    actor_id          text,
    at                timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (product_id, region) REFERENCES stock (product_id, region),
    CHECK (kind <> 'adjustment' OR reason IS NOT NULL)
);

CREATE INDEX stock_movements_stock_idx ON stock_movements (product_id, region, id);
