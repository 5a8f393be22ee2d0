-- Moving a workspace between databases (issue 16): shared to dedicated, back, or to another
-- cluster.
--
-- While a move copies its rows, the workspace's writes are frozen: `writes_frozen_since` is
-- set on its row in the database it is served from (the registry row, for a shared
-- workspace; its own row, for a dedicated one), and app_enter_tenant (below) then makes
-- every one of its transactions there READ ONLY. PostgreSQL itself refuses the write
-- (SQLSTATE 25006), in every process, whether or not it has heard of the freeze yet; reads
-- carry on from the source.
ALTER TABLE tenants ADD COLUMN writes_frozen_since timestamptz;

-- A dedicated database a workspace has moved out of keeps its rows for the move's hold; its
-- row there says 'left', and app_enter_tenant refuses the workspace in it (a process that
-- has not heard of the switch must not read or write the copy it left behind).
-- The check is replaced whole: it only widens (a new state), so no row it allowed is refused,
-- and the new one is validated in a transaction of its own (the next migration).
-- squawk-ignore ban-drop-constraint
ALTER TABLE tenants DROP CONSTRAINT tenants_placement_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_placement_check CHECK (
    (placement_cluster IS NULL AND placement_database IS NULL AND placement_state IS NULL)
    OR (placement_cluster ~ '^[a-z][a-z0-9]{0,30}$'
        AND placement_database ~ '^stockroom_w_[0-9a-f]{32}$'
        AND placement_state IN ('provisioning', 'ready', 'left'))
) NOT VALID;

-- One row per move, in the control database: the state machine a stopped run resumes from
-- and what the console shows. Platform data (like console_audit): no tenant_id column, so it
-- is neither a workspace's table nor copied with one; only the owner role, which moves
-- workspaces, writes it.
--   frozen    the source refuses the workspace's writes (reads carry on)
--   copying   the destination is being filled (a rerun empties it and copies again)
--   verifying row counts and checksums compared, table by table
--   switched  the registry names the destination; the source is kept until hold_until
--   cleaned   the source's rows (or database) are gone: done
--   failed    stopped before the switch: the copy was discarded, the source unfrozen
CREATE TABLE workspace_moves (
    id             uuid PRIMARY KEY,
    workspace_id   uuid NOT NULL REFERENCES tenants (id),
    -- NULL cluster and database: the shared database.
    from_cluster   text,
    from_database  text,
    to_cluster     text,
    to_database    text,
    state          text NOT NULL CHECK (state IN ('frozen', 'copying', 'verifying', 'switched',
                                                  'cleaned', 'failed')),
    started_by     text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Wall time of each phase, for the report and the benchmark.
    copied_at      timestamptz,
    verified_at    timestamptz,
    switched_at    timestamptz,
    finished_at    timestamptz,
    hold_until     timestamptz,
    rows_moved     bigint,
    -- Rows copied per table: {"public.orders": 100000, ...}.
    copied         jsonb,
    failure        text,
    CHECK ((from_cluster IS NULL) = (from_database IS NULL)),
    CHECK ((to_cluster IS NULL) = (to_database IS NULL))
);
-- At most one move of a workspace under way (a source on hold counts).
CREATE UNIQUE INDEX workspace_moves_one_open_idx ON workspace_moves (workspace_id)
    WHERE state NOT IN ('cleaned', 'failed');
CREATE INDEX workspace_moves_workspace_idx ON workspace_moves (workspace_id, started_at DESC);
CREATE INDEX workspace_moves_hold_idx ON workspace_moves (hold_until) WHERE state = 'switched';
GRANT SELECT ON workspace_moves TO stockroom_app;

-- As before (see 20261201000009), and a frozen workspace's transaction is made READ ONLY.
-- Setting it here, before the BEGIN that the same message carries, makes the whole
-- transaction read-only: a transaction may always become read-only, never back.
CREATE OR REPLACE FUNCTION app_enter_tenant(p_tenant uuid)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = public, pg_temp
    AS $$
DECLARE
    home text;
    state text;
    frozen timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1397903693, hashtext(p_tenant::text));
    SELECT t.placement_database, t.placement_state, t.writes_frozen_since INTO home, state, frozen
      FROM tenants t WHERE t.id = p_tenant;
    IF NOT FOUND OR coalesce(home, current_database()) <> current_database()
       OR coalesce(state, 'ready') <> 'ready' THEN
        RAISE EXCEPTION 'workspace % does not live in database %', p_tenant, current_database()
            USING ERRCODE = 'SR001';
    END IF;
    IF frozen IS NOT NULL THEN
        PERFORM set_config('transaction_read_only', 'on', true);
    END IF;
    RETURN true;
END
$$;
