-- "Find my workspace": given an email, which active workspaces have an account for it. This is
-- the one deliberate read across tenants, so it is a function returning only slug and name,
-- never a table grant: the app role still cannot read another tenant's users.
--
-- The function runs as the migrating (owner) role, which FORCE ROW LEVEL SECURITY binds too;
-- this policy lets that role, and only that role, read users rows for the lookup.
DO $$
BEGIN
    EXECUTE format('CREATE POLICY directory_lookup ON users FOR SELECT TO %I USING (true)', current_user);
END
$$;

CREATE FUNCTION workspaces_for_email(p_email text)
    RETURNS TABLE (slug text, name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        SELECT t.slug, t.name
          FROM users u
          JOIN tenants t ON t.id = u.tenant_id
         WHERE u.email = lower(p_email) AND t.status = 'active'
         ORDER BY t.name, t.slug
    $$;

REVOKE ALL ON FUNCTION workspaces_for_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workspaces_for_email(text) TO stockroom_app;
