-- Handoff rules: data that says which business event queues which task where. A rule reacts
-- to one event type, holds when its condition (a bounded JSON match, checked in Swift) holds,
-- and creates a task in a department of the event's region or in a named team. Rules run in
-- the transaction of the write that emitted the event (HandoffRules.react), so a rolled-back
-- write leaves no task.

CREATE TABLE rules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    event_type  text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$'),
    -- An object of field -> value or field -> {op: value}; validated (and bounded) by Baton.
    condition   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(condition) = 'object'),
    -- department or team, kind, priority, title template, payload templates, subject templates.
    action      jsonb NOT NULL CHECK (jsonb_typeof(action) = 'object'),
    active      boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 1,
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- What a write reads to react: the active rules of its event types (one indexed look).
CREATE INDEX rules_active_idx ON rules (event_type, id) WHERE active;

-- One row per rule and event it fired for: the primary key is what makes a rule create at most
-- one task per event occurrence, however often the hook is called for it.
CREATE TABLE rule_firings (
    rule_id   bigint NOT NULL REFERENCES rules (id),
    event_id  bigint NOT NULL,
    task_id   bigint,
    fired_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_id, event_id)
);

CREATE INDEX rule_firings_task_idx ON rule_firings (task_id);

-- The shipped defaults, editable like any rule.
INSERT INTO rules (name, event_type, condition, action, created_by) VALUES
('Won deal: raise the order', 'opportunity.won', '{}',
 '{"department": "sales", "kind": "raise_order", "priority": "normal",
   "title": "Raise the order for {{customer_name}}: {{title}}",
   "payload": {"opportunity_id": "{{opportunity_id}}", "customer_id": "{{customer_id}}", "amount_minor": "{{amount_minor}}",
               "currency": "{{currency}}"},
   "subject": {}}', 'system'),
('Confirmed order: ship it', 'order.confirmed', '{}',
 '{"department": "logistics", "kind": "ship_order", "priority": "normal",
   "title": "Ship order {{number}} to {{customer_name}} ({{lines}} lines)",
   "payload": {"order_id": "{{order_id}}", "number": "{{number}}", "customer_id": "{{customer_id}}"},
   "subject": {"type": "order", "id": "{{order_id}}"}}', 'system'),
('Delivered order: ask for feedback', 'order.delivered', '{}',
 '{"department": "support", "kind": "ask_feedback", "priority": "normal",
   "title": "Ask for feedback on order {{number}} from {{customer_name}}",
   "payload": {"order_id": "{{order_id}}", "number": "{{number}}", "customer_id": "{{customer_id}}"},
   "subject": {"type": "order", "id": "{{order_id}}"}}', 'system'),
('Below reorder point: restock', 'stock.below_reorder', '{}',
 '{"department": "logistics", "kind": "restock", "priority": "normal",
   "title": "Restock {{sku}} ({{name}}): {{available}} available, reorder point {{reorder_point}}",
   "payload": {"product_id": "{{product_id}}", "sku": "{{sku}}", "region": "{{region}}", "available": "{{available}}",
               "reorder_quantity": "{{reorder_quantity}}"},
   "subject": {"type": "stock", "id": "{{region}}/{{sku}}"}}', 'system'),
('Complaint about an owned customer: account at risk', 'case.opened', '{"kind": "complaint", "customer.owned": true}',
 '{"department": "sales", "kind": "complaint_notice", "priority": "high",
   "title": "Account at risk: {{customer.name}} complained: {{subject}}",
   "payload": {"case_id": "{{case_id}}", "customer_id": "{{customer.id}}", "owner_id": "{{customer.owner_id}}"},
   "subject": {}}', 'system');
