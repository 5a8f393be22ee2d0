-- Customers: who an order is for. A tenant table like any other (tenant_id first in every
-- key, forced row-level security).
CREATE TABLE customers (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    id         uuid NOT NULL,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    email      text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    phone      text CHECK (length(phone) <= 32),
    address    text CHECK (length(address) <= 400),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    -- One customer per mailbox per workspace: the order form finds them again by it.
    CONSTRAINT customers_tenant_email_key UNIQUE (tenant_id, email)
);
-- The customers page and the order form's customer search: by name, keyset on (name, id).
CREATE INDEX customers_tenant_name_idx ON customers (tenant_id, (lower(name) COLLATE "C"), id);

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON customers TO stockroom_app;

-- Orders name their customer. Orders placed before customers existed have none; the order
-- form requires one from now on.
ALTER TABLE orders ADD COLUMN customer_id uuid;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fkey
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id);
-- A customer's orders, newest first (the customer page, the orders list filtered by customer).
CREATE INDEX orders_tenant_customer_newest_idx ON orders (tenant_id, customer_id, created_at DESC, id DESC)
    WHERE customer_id IS NOT NULL;
