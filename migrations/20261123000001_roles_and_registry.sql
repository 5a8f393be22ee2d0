-- The application connects as `stockroom_app`: a role that owns nothing, is no superuser and
-- cannot bypass row-level security. It is created by whoever provisions the cluster (./dev does
-- it for local clusters); this migration only refuses to run without it, because granting to a
-- role that is missing would leave the app unable to work, or worse, running as the owner.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stockroom_app') THEN
        RAISE EXCEPTION 'role stockroom_app does not exist: create it (LOGIN NOSUPERUSER NOBYPASSRLS) before migrating';
    END IF;
    -- Migrating as the app role would make it the owner of every table.
    IF current_user = 'stockroom_app' THEN
        RAISE EXCEPTION 'migrations must run as the owner role, not as stockroom_app';
    END IF;
END
$$;

-- The tenant id the current transaction acts for, or NULL. Every policy calls this; wrapping it
-- in a sub-select in the policies lets PostgreSQL evaluate it once per statement, not per row.
CREATE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;

CREATE TABLE plans (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]{1,31}$'),
    name       text NOT NULL,
    sort_order integer NOT NULL DEFAULT 0
);

INSERT INTO plans (code, name, sort_order) VALUES
    ('FREE', 'Free', 0),
    ('PRO', 'Pro', 1),
    ('ENTERPRISE', 'Enterprise', 2);

-- The tenant registry. It is the one table every request reads before it knows a tenant, so it
-- is platform data (no tenant_id column, no RLS); the app role may read it and register a row.
CREATE TABLE tenants (
    id         uuid PRIMARY KEY,
    slug       text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){2,39}$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    plan_code  text NOT NULL DEFAULT 'FREE' REFERENCES plans (code),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug)
);

GRANT SELECT ON plans TO stockroom_app;
GRANT SELECT, INSERT ON tenants TO stockroom_app;
