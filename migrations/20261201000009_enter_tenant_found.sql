-- A workspace's transaction is refused, too, by a database that has no registry row for it:
-- a dedicated database holds its own workspace's row only, so a transaction routed there for
-- another workspace (a registry that named the wrong database) serves nothing instead of an
-- empty workspace. The shared database has every workspace's row.
CREATE OR REPLACE FUNCTION app_enter_tenant(p_tenant uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = public, pg_temp
    AS $$
DECLARE
    home text;
    state text;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1397903693, hashtext(p_tenant::text));
    SELECT t.placement_database, t.placement_state INTO home, state
      FROM tenants t WHERE t.id = p_tenant;
    IF NOT FOUND OR coalesce(home, current_database()) <> current_database()
       OR coalesce(state, 'ready') <> 'ready' THEN
        RAISE EXCEPTION 'workspace % does not live in database %', p_tenant, current_database()
            USING ERRCODE = 'SR001';
    END IF;
    RETURN true;
END
$$;
