-- Plans, what they include and allow, per-tenant overrides, the platform console's accounts and
-- audit log, and background export jobs.

-- What the code can ask about. A feature or limit is added by a migration (the code that
-- checks it ships with it); plans and their contents are data a console admin can change.
CREATE TABLE features (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,47}$'),
    name        text NOT NULL,
    description text NOT NULL DEFAULT ''
);
CREATE TABLE limit_kinds (
    code text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,47}$'),
    name text NOT NULL,
    -- How one unit is named in "8 / 10 products".
    unit text NOT NULL
);

-- A row means the plan includes the feature.
CREATE TABLE plan_features (
    plan_code text NOT NULL REFERENCES plans (code),
    feature   text NOT NULL REFERENCES features (code),
    PRIMARY KEY (plan_code, feature)
);
-- A row caps the plan at max_value; no row (or NULL) means unlimited.
CREATE TABLE plan_limits (
    plan_code  text NOT NULL REFERENCES plans (code),
    limit_code text NOT NULL REFERENCES limit_kinds (code),
    max_value  bigint CHECK (max_value >= 0),
    PRIMARY KEY (plan_code, limit_code)
);

INSERT INTO features (code, name, description) VALUES
    ('csv_export', 'CSV export', 'Download products and orders as CSV files.');
INSERT INTO limit_kinds (code, name, unit) VALUES
    ('max_products', 'Products', 'products'),
    ('max_members', 'Team members', 'members'),
    ('max_orders_per_month', 'Orders per month', 'orders this month');

INSERT INTO plan_features (plan_code, feature) VALUES
    ('PRO', 'csv_export'),
    ('ENTERPRISE', 'csv_export');
INSERT INTO plan_limits (plan_code, limit_code, max_value) VALUES
    ('FREE', 'max_products', 100),
    ('FREE', 'max_members', 5),
    ('FREE', 'max_orders_per_month', 200),
    ('PRO', 'max_products', 10000),
    ('PRO', 'max_members', 50),
    ('PRO', 'max_orders_per_month', 20000),
    ('ENTERPRISE', 'max_products', NULL),
    ('ENTERPRISE', 'max_members', NULL),
    ('ENTERPRISE', 'max_orders_per_month', NULL);

GRANT SELECT ON features, limit_kinds, plan_features, plan_limits TO stockroom_app;
-- The console changes a tenant's plan and status, nothing else of the registry row.
GRANT UPDATE (plan_code, status) ON tenants TO stockroom_app;

-- Per-tenant exceptions set by the console: a feature switched on or off, a limit raised,
-- lowered or lifted (NULL = unlimited). No row: the plan decides.
CREATE TABLE tenant_feature_overrides (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    feature   text NOT NULL REFERENCES features (code),
    enabled   boolean NOT NULL,
    PRIMARY KEY (tenant_id, feature)
);
CREATE TABLE tenant_limit_overrides (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    limit_code text NOT NULL REFERENCES limit_kinds (code),
    max_value  bigint CHECK (max_value >= 0),
    PRIMARY KEY (tenant_id, limit_code)
);

-- One row per (tenant, limit), locked by every write a limit counts, so two concurrent
-- creates queue behind each other and cannot both take the last slot.
CREATE TABLE limit_locks (
    tenant_id  uuid NOT NULL REFERENCES tenants (id),
    limit_code text NOT NULL REFERENCES limit_kinds (code),
    PRIMARY KEY (tenant_id, limit_code)
);

-- CSV exports run in the background; the job row carries its tenant like any tenant data.
CREATE TABLE export_jobs (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('products', 'orders')),
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    requested_by uuid NOT NULL,
    rows_done    bigint NOT NULL DEFAULT 0,
    rows_total   bigint,
    error        text,
    content      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    -- A running job touches this as it goes; one that stops touching it died with its worker.
    heartbeat_at timestamptz,
    finished_at  timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, requested_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX export_jobs_tenant_newest_idx ON export_jobs (tenant_id, created_at DESC, id DESC);
CREATE INDEX export_jobs_tenant_pending_idx ON export_jobs (tenant_id, created_at)
    WHERE status IN ('queued', 'running');

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenant_feature_overrides', 'tenant_limit_overrides', 'limit_locks', 'export_jobs'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (tenant_id = (SELECT app_current_tenant()))
                 WITH CHECK (tenant_id = (SELECT app_current_tenant()))', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenant_feature_overrides, tenant_limit_overrides TO stockroom_app;
GRANT SELECT, INSERT, UPDATE ON limit_locks TO stockroom_app;
GRANT SELECT, INSERT, UPDATE ON export_jobs TO stockroom_app;

-- The worker does not know which tenant has work before it looks. This function is its one
-- read across tenants: it claims the oldest waiting job (or one whose worker died) and
-- returns only its tenant and id; the worker then runs it inside that tenant's transaction.
-- Like workspaces_for_email, it opens the table to the owner role only while it runs.
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY job_claim ON export_jobs FOR ALL TO %I
             USING (current_setting(''app.job_claim'', true) = ''on'')
             WITH CHECK (current_setting(''app.job_claim'', true) = ''on'')',
        current_user);
END
$$;

CREATE FUNCTION claim_export_job(p_stale_after_secs double precision)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('app.job_claim', 'on', true);
        RETURN QUERY
            UPDATE export_jobs j
               SET status = 'running', started_at = now(), heartbeat_at = now()
              FROM (SELECT c.tenant_id, c.id FROM export_jobs c
                     WHERE c.status = 'queued'
                        OR (c.status = 'running'
                            AND c.heartbeat_at < now() - make_interval(secs => p_stale_after_secs))
                     ORDER BY c.created_at
                     LIMIT 1
                       FOR UPDATE SKIP LOCKED) next
             WHERE j.tenant_id = next.tenant_id AND j.id = next.id
            RETURNING j.tenant_id, j.id;
        PERFORM set_config('app.job_claim', 'off', true);
    END
    $$;
REVOKE ALL ON FUNCTION claim_export_job(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_export_job(double precision) TO stockroom_app;

-- The console's tenant list shows each tenant's size. These counts are the only tenant data
-- the console reads across tenants, through this function, which returns numbers only.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'products', 'orders'] LOOP
        EXECUTE format(
            'CREATE POLICY usage_counts ON %I FOR SELECT TO %I
                 USING (current_setting(''app.usage_counts'', true) = ''on'')',
            t, current_user);
    END LOOP;
END
$$;

CREATE FUNCTION tenant_usage_counts(p_tenants uuid[])
    RETURNS TABLE (tenant_id uuid, members bigint, products bigint, orders_this_month bigint)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('app.usage_counts', 'on', true);
        RETURN QUERY
            SELECT t.id,
                   (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.removed_at IS NULL),
                   (SELECT count(*) FROM products p WHERE p.tenant_id = t.id AND p.archived_at IS NULL),
                   (SELECT count(*) FROM orders o WHERE o.tenant_id = t.id
                       AND o.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
              FROM unnest(p_tenants) AS t(id);
        PERFORM set_config('app.usage_counts', 'off', true);
    END
    $$;
REVOKE ALL ON FUNCTION tenant_usage_counts(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenant_usage_counts(uuid[]) TO stockroom_app;

-- Platform console accounts: people who run Stockroom itself, not members of any tenant.
CREATE TABLE platform_admins (
    id              uuid PRIMARY KEY,
    email           text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    password_hash   text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    CONSTRAINT platform_admins_email_key UNIQUE (email)
);
GRANT SELECT, INSERT ON platform_admins TO stockroom_app;
GRANT UPDATE (last_sign_in_at) ON platform_admins TO stockroom_app;

-- Every console action, append-only: the app role may add and read rows, never change or
-- delete them. Platform data about tenants, not tenant data, so the tenant it concerns is a
-- reference (target_tenant_id), not an owner column, and tenants never read it.
CREATE TABLE console_audit (
    id               uuid PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Who acted: a console admin, or a system such as a billing webhook (admin_id NULL).
    admin_id         uuid REFERENCES platform_admins (id),
    actor            text NOT NULL,
    action           text NOT NULL,
    target_tenant_id uuid REFERENCES tenants (id),
    before           jsonb,
    after            jsonb
);
CREATE INDEX console_audit_newest_idx ON console_audit (at DESC, id DESC);
CREATE INDEX console_audit_tenant_idx ON console_audit (target_tenant_id, at DESC, id DESC);
GRANT SELECT, INSERT ON console_audit TO stockroom_app;
