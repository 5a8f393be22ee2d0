-- Prices are shown in the workspace's currency (ISO 4217), stored as integer minor units.
ALTER TABLE tenants ADD COLUMN currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$');

CREATE TABLE products (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    sku         text NOT NULL CHECK (sku ~ '^[A-Z0-9_./-]{1,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    -- The last line of defence against overselling: no update can take stock below zero.
    stock       integer NOT NULL CHECK (stock >= 0),
    archived_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT products_tenant_sku_key UNIQUE (tenant_id, sku)
);
-- The product list: newest first, keyset-paginated on (created_at, id) within one tenant.
CREATE INDEX products_tenant_newest_idx ON products (tenant_id, created_at DESC, id DESC);
-- Low-stock panel on the dashboard.
CREATE INDEX products_tenant_stock_idx ON products (tenant_id, stock) WHERE archived_at IS NULL;

-- Per-tenant order numbers (#1, #2, …) people can say on the phone.
CREATE TABLE order_counters (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id),
    last_number bigint NOT NULL DEFAULT 0
);

CREATE TABLE orders (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    number      bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    total_minor bigint NOT NULL CHECK (total_minor >= 0),
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT orders_tenant_number_key UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX orders_tenant_newest_idx ON orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_tenant_status_newest_idx ON orders (tenant_id, status, created_at DESC, id DESC);

-- Lines keep the product's name, SKU and price as they were when ordered.
CREATE TABLE order_lines (
    tenant_id        uuid NOT NULL,
    order_id         uuid NOT NULL,
    line_no          integer NOT NULL CHECK (line_no > 0),
    product_id       uuid NOT NULL,
    sku              text NOT NULL,
    product_name     text NOT NULL,
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
    quantity         integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX order_lines_tenant_product_idx ON order_lines (tenant_id, product_id);

-- Who moved an order and when; the creation is the first event.
CREATE TABLE order_events (
    tenant_id   uuid NOT NULL,
    order_id    uuid NOT NULL,
    id          uuid NOT NULL,
    from_status text CHECK (from_status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    to_status   text NOT NULL CHECK (to_status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED')),
    changed_by  uuid NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, changed_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX order_events_tenant_order_idx ON order_events (tenant_id, order_id, changed_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['products', 'order_counters', 'orders', 'order_lines', 'order_events'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (tenant_id = (SELECT app_current_tenant()))
                 WITH CHECK (tenant_id = (SELECT app_current_tenant()))', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON products TO stockroom_app;
GRANT SELECT, INSERT, UPDATE ON order_counters TO stockroom_app;
GRANT SELECT, INSERT, UPDATE ON orders TO stockroom_app;
GRANT SELECT, INSERT ON order_lines TO stockroom_app;
GRANT SELECT, INSERT ON order_events TO stockroom_app;
