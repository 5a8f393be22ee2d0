-- "Find my workspace" reads the control database (`workspaces_for_email`), but the members of
-- a workspace with a database of its own live there. Each of its membership changes writes
-- this directory beside it, in the control database: who (by id and email) is an active
-- member of which dedicated workspace. Shared workspaces' members are read from `users`.
CREATE TABLE member_directory (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    user_id   uuid NOT NULL,
    email     text NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
-- No index by email: every index leads with tenant_id (the tenancy rules), and a lookup by
-- email reads across workspaces like the one over `users` beside it (rare and rate-limited).
ALTER TABLE member_directory ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_directory FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON member_directory
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON member_directory TO stockroom_app;
COMMENT ON TABLE member_directory IS
    'omit from export: the platform''s index of the members the users table holds';

GRANT SELECT ON member_directory TO stockroom_fn_directory;
CREATE POLICY fn_directory ON member_directory FOR SELECT TO stockroom_fn_directory USING (true);
CREATE OR REPLACE FUNCTION workspaces_for_email(p_email text)
    RETURNS TABLE (slug text, name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT t.slug, t.name
          FROM (SELECT u.tenant_id FROM users u
                 WHERE u.email = lower(p_email) AND u.removed_at IS NULL
                UNION
                SELECT d.tenant_id FROM member_directory d
                 WHERE d.email = lower(p_email)) m
          JOIN tenants t ON t.id = m.tenant_id
         WHERE t.status = 'active'
         ORDER BY t.name, t.slug
    $$;
