-- Least privilege for the few reads across tenants. Each SECURITY DEFINER function runs as a
-- role of its own (NOLOGIN, created with the cluster's other roles, see README), whose
-- policies open exactly the tables that function reads. They used to run as the owner role,
-- opened by policies gated on custom settings; any role may set such a setting for its own
-- session, so a later definer function owned by the owner would have seen every tenant's rows
-- whenever its caller had set one first. A role can only be entered by its functions.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['stockroom_fn_directory', 'stockroom_fn_claim_export', 'stockroom_fn_usage_counts'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            RAISE EXCEPTION 'role % does not exist: create it (NOLOGIN) and grant it to the migrating role before migrating (README, Database roles)', r;
        END IF;
        IF NOT pg_has_role(current_user, r, 'MEMBER') THEN
            RAISE EXCEPTION 'the migrating role must be a member of % (GRANT % TO %)', r, r, current_user;
        END IF;
    END LOOP;
END
$$;

-- Members are removed by a timestamp, never deleted.
REVOKE DELETE ON users FROM stockroom_app;

DROP POLICY directory_lookup ON users;
DROP POLICY job_claim ON export_jobs;
DROP POLICY usage_counts ON users;
DROP POLICY usage_counts ON products;
DROP POLICY usage_counts ON orders;

-- "Find my workspace": slugs and names of the active workspaces that have this email.
GRANT USAGE ON SCHEMA public TO stockroom_fn_directory;
GRANT SELECT ON users, tenants TO stockroom_fn_directory;
CREATE POLICY fn_directory ON users FOR SELECT TO stockroom_fn_directory USING (true);
CREATE OR REPLACE FUNCTION workspaces_for_email(p_email text)
    RETURNS TABLE (slug text, name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT t.slug, t.name
          FROM users u
          JOIN tenants t ON t.id = u.tenant_id
         WHERE u.email = lower(p_email) AND u.removed_at IS NULL AND t.status = 'active'
         ORDER BY t.name, t.slug
    $$;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_directory;
ALTER FUNCTION workspaces_for_email(text) OWNER TO stockroom_fn_directory;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_directory;

-- The export worker's claim: the oldest waiting job of any workspace, as (tenant, id) only.
GRANT USAGE ON SCHEMA public TO stockroom_fn_claim_export;
GRANT SELECT, UPDATE ON export_jobs TO stockroom_fn_claim_export;
CREATE POLICY fn_claim_export ON export_jobs FOR ALL TO stockroom_fn_claim_export
    USING (true) WITH CHECK (true);
CREATE OR REPLACE FUNCTION claim_export_job(p_stale_after_secs double precision)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
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
        RETURNING j.tenant_id, j.id
    $$;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_claim_export;
ALTER FUNCTION claim_export_job(double precision) OWNER TO stockroom_fn_claim_export;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_claim_export;

-- The console's sizes: numbers only.
GRANT USAGE ON SCHEMA public TO stockroom_fn_usage_counts;
GRANT SELECT ON users, products, orders TO stockroom_fn_usage_counts;
CREATE POLICY fn_usage_counts ON users FOR SELECT TO stockroom_fn_usage_counts USING (true);
CREATE POLICY fn_usage_counts ON products FOR SELECT TO stockroom_fn_usage_counts USING (true);
CREATE POLICY fn_usage_counts ON orders FOR SELECT TO stockroom_fn_usage_counts USING (true);
CREATE OR REPLACE FUNCTION tenant_usage_counts(p_tenants uuid[])
    RETURNS TABLE (tenant_id uuid, members bigint, products bigint, orders_this_month bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT t.id,
               (SELECT count(*) FROM users u WHERE u.tenant_id = t.id AND u.removed_at IS NULL),
               (SELECT count(*) FROM products p WHERE p.tenant_id = t.id AND p.archived_at IS NULL),
               (SELECT count(*) FROM orders o WHERE o.tenant_id = t.id
                   AND o.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')
          FROM unnest(p_tenants) AS t(id)
    $$;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_usage_counts;
ALTER FUNCTION tenant_usage_counts(uuid[]) OWNER TO stockroom_fn_usage_counts;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_usage_counts;
