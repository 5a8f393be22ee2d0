-- app_enter_tenant runs at the start of every tenant transaction, so its fixed cost is paid
-- by every request. A `SET search_path` clause makes each call save, set and restore the
-- setting: measured with pgbench on the product list's transaction (bench/README.md, "the
-- enter check"), the clause alone cost about 15% of the database's rate. It is dropped here,
-- and the function's names are qualified instead. The clause guards SECURITY DEFINER
-- functions against a caller's search_path; this one runs with its caller's rights, so a
-- path the caller chose could only ever run the caller's own code. Behaviour is unchanged
-- (see 20261202000001).
CREATE OR REPLACE FUNCTION public.app_enter_tenant(p_tenant uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    AS $$
DECLARE
    home text;
    state text;
    frozen timestamptz;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(1397903693, pg_catalog.hashtext(p_tenant::text));
    SELECT t.placement_database, t.placement_state, t.writes_frozen_since INTO home, state, frozen
      FROM public.tenants t WHERE t.id = p_tenant;
    IF NOT FOUND OR coalesce(home, pg_catalog.current_database()) <> pg_catalog.current_database()
       OR coalesce(state, 'ready') <> 'ready' THEN
        RAISE EXCEPTION 'workspace % does not live in database %', p_tenant, pg_catalog.current_database()
            USING ERRCODE = 'SR001';
    END IF;
    IF frozen IS NOT NULL THEN
        PERFORM pg_catalog.set_config('transaction_read_only', 'on', true);
    END IF;
    RETURN true;
END
$$;
