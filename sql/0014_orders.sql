-- Orders: a customer's lines of products from a region's warehouse, their lifecycle (draft,
-- confirmed with stock reserved, shipped, delivered; cancelled; on hold and back), and the
-- split of the sales credit between members.

CREATE TABLE orders (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id            bigint NOT NULL REFERENCES customers (id),
    -- The warehouse it ships from; the customer's region unless given.
    region                 text NOT NULL REFERENCES regions (code),
    opportunity_id         bigint REFERENCES opportunities (id),
    state                  text NOT NULL DEFAULT 'draft'
                           CHECK (state IN ('draft', 'confirmed', 'on_hold', 'shipped', 'delivered', 'cancelled')),
    -- The state an order on hold returns to.
    held_from              text CHECK (held_from IN ('draft', 'confirmed')),
    hold_reason            text CHECK (length(hold_reason) BETWEEN 1 AND 500),
    cancel_reason          text CHECK (length(cancel_reason) BETWEEN 1 AND 500),
    currency               text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Computed by Baton from the lines: the sum of quantity × unit price, of the line discounts,
    -- and what the customer pays.
    subtotal_minor         bigint NOT NULL DEFAULT 0 CHECK (subtotal_minor >= 0),
    discount_minor         bigint NOT NULL DEFAULT 0 CHECK (discount_minor >= 0),
    total_minor            bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    requested_delivery_on  date,
    notes                  text CHECK (length(notes) <= 10000),
    -- Confirmed short of stock: the missing units are reserved when the order ships.
    backordered            boolean NOT NULL DEFAULT false,
    version                integer NOT NULL DEFAULT 1,
    created_by             text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    confirmed_at           timestamptz,
    shipped_at             timestamptz,
    delivered_at           timestamptz,
    cancelled_at           timestamptz,
    CHECK ((state = 'on_hold') = (held_from IS NOT NULL)),
    CHECK (total_minor = subtotal_minor - discount_minor)
);

CREATE INDEX orders_region_idx ON orders (region, id);
CREATE INDEX orders_customer_idx ON orders (customer_id, id);
CREATE INDEX orders_state_idx ON orders (state, region) WHERE state IN ('confirmed', 'on_hold');
-- Reports count orders by when they were confirmed and delivered.
CREATE INDEX orders_confirmed_idx ON orders (region, confirmed_at) WHERE confirmed_at IS NOT NULL;

CREATE TABLE order_lines (
    order_id          bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line              integer NOT NULL CHECK (line BETWEEN 1 AND 200),
    product_id        bigint NOT NULL REFERENCES products (id),
    quantity          bigint NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor BETWEEN 0 AND 1000000000000),
    -- Hundredths of a percent: 1250 is 12.5 %.
    discount_bp       integer NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    total_minor       bigint NOT NULL CHECK (total_minor >= 0),
    -- Units of this line held in the region's stock (less than quantity while backordered).
    reserved          bigint NOT NULL DEFAULT 0 CHECK (reserved BETWEEN 0 AND quantity),
    PRIMARY KEY (order_id, line)
);

CREATE INDEX order_lines_product_idx ON order_lines (product_id);

-- Who is credited with the sale, in percent summing to 100 (checked by Baton on every write);
-- reports count the order once in totals and split it only per member.
CREATE TABLE order_credits (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    member_id  bigint NOT NULL REFERENCES members (id),
    percent    integer NOT NULL CHECK (percent BETWEEN 1 AND 100),
    PRIMARY KEY (order_id, member_id)
);

CREATE INDEX order_credits_member_idx ON order_credits (member_id);

ALTER TABLE stock_movements ADD FOREIGN KEY (order_id) REFERENCES orders (id);
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id) WHERE order_id IS NOT NULL;
