-- Where each workspace's data lives (issue 15, seed 001). In the control database (the one
-- the server is configured with) the registry row says it: no placement is the shared
-- database itself; otherwise a database on a named cluster, in one of two states:
-- 'provisioning' (being made: it receives no traffic, and the workspace is refused here too)
-- and 'ready'. In a dedicated database, the same table holds its one workspace's row, which
-- names that database: the anchor of its rows' foreign keys, and what app_enter_tenant reads.
-- No credential is stored: a cluster is named here and reached with the deployer's settings.
ALTER TABLE tenants
    ADD COLUMN placement_cluster text,
    ADD COLUMN placement_database text,
    ADD COLUMN placement_state text;

-- Unvalidated here, validated by the next migration (see 20261201000001).
ALTER TABLE tenants ADD CONSTRAINT tenants_placement_check CHECK (
    (placement_cluster IS NULL AND placement_database IS NULL AND placement_state IS NULL)
    OR (placement_cluster ~ '^[a-z][a-z0-9]{0,30}$'
        AND placement_database ~ '^stockroom_w_[0-9a-f]{32}$'
        AND placement_state IN ('provisioning', 'ready'))
) NOT VALID;

COMMENT ON COLUMN tenants.placement_cluster IS
    'the cluster of the workspace''s own database, named in the deployer''s settings; NULL: shared';

-- Every tenant transaction calls this first, in the message that opens it. It makes sure the
-- workspace's data lives in this database now (a process that has not yet heard of a move
-- must not write where the workspace no longer is), and holds a shared lock on the workspace
-- for the rest of the transaction: whoever moves a workspace marks it moved, then takes the
-- same lock exclusively, and from then on no transaction that began before the mark is still
-- running (tenant_lock_key). The lock is taken in a statement before the check, so that the
-- check's snapshot sees a mark made while it waited.
CREATE FUNCTION app_enter_tenant(p_tenant uuid)
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
    IF FOUND AND (coalesce(home, current_database()) <> current_database()
                  OR coalesce(state, 'ready') <> 'ready') THEN
        RAISE EXCEPTION 'workspace % does not live in database %', p_tenant, current_database()
            USING ERRCODE = 'SR001';
    END IF;
    RETURN true;
END
$$;
