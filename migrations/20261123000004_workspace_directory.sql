-- "Find my workspace": given an email, which active workspaces have an account for it. This is
-- the one deliberate read across tenants, so it is a function returning only slug and name,
-- never a table grant: the app role still cannot read another tenant's users.
--
-- The function runs as the migrating (owner) role, which FORCE ROW LEVEL SECURITY binds too.
-- This policy opens users to that role only while app.directory_lookup is 'on', which only the
-- function below turns on, for the length of its call. (A SET clause on the function would be
-- neater, but PostgreSQL reserves placeholder settings in SET clauses to superusers.)
DO $$
BEGIN
    EXECUTE format(
        'CREATE POLICY directory_lookup ON users FOR SELECT TO %I
             USING (current_setting(''app.directory_lookup'', true) = ''on'')',
        current_user);
END
$$;

CREATE FUNCTION workspaces_for_email(p_email text)
    RETURNS TABLE (slug text, name text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('app.directory_lookup', 'on', true);
        RETURN QUERY
            SELECT t.slug, t.name
              FROM users u
              JOIN tenants t ON t.id = u.tenant_id
             WHERE u.email = lower(p_email) AND t.status = 'active'
             ORDER BY t.name, t.slug;
        PERFORM set_config('app.directory_lookup', 'off', true);
    END
    $$;

REVOKE ALL ON FUNCTION workspaces_for_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workspaces_for_email(text) TO stockroom_app;
