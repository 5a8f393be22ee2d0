-- The job workers' cross-workspace functions touch only workspaces served from this database
-- and not frozen for a move: a claim, a stale job's reclaim or an expired file's discard is a
-- write, and a frozen workspace's source must not change while a move copies and verifies it
-- (nor the copy a move left behind in a database the workspace no longer lives in).
GRANT SELECT (id, placement_database, placement_state, writes_frozen_since) ON tenants
    TO stockroom_fn_claim_export, stockroom_fn_claim_import, stockroom_fn_discard_exports;

CREATE OR REPLACE FUNCTION claim_export_job(p_stale_after_secs double precision)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        UPDATE export_jobs j
           SET status = 'running', started_at = now(), heartbeat_at = now()
          FROM (SELECT c.tenant_id, c.id FROM export_jobs c
                  JOIN tenants t ON t.id = c.tenant_id
                 WHERE (c.status = 'queued'
                        OR (c.status = 'running'
                            AND c.heartbeat_at < now() - make_interval(secs => p_stale_after_secs)))
                   AND t.writes_frozen_since IS NULL
                   AND coalesce(t.placement_database, current_database()) = current_database()
                   AND coalesce(t.placement_state, 'ready') = 'ready'
                 ORDER BY c.created_at
                 LIMIT 1
                   FOR UPDATE OF c SKIP LOCKED) next
         WHERE j.tenant_id = next.tenant_id AND j.id = next.id
        RETURNING j.tenant_id, j.id
    $$;

CREATE OR REPLACE FUNCTION claim_import_job(p_stale_after_secs double precision)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        UPDATE product_imports j
           SET status = 'running', started_at = coalesce(j.started_at, now()), heartbeat_at = now()
          FROM (SELECT c.tenant_id, c.id FROM product_imports c
                  JOIN tenants t ON t.id = c.tenant_id
                 WHERE (c.status = 'queued'
                        OR (c.status = 'running'
                            AND c.heartbeat_at < now() - make_interval(secs => p_stale_after_secs)))
                   AND t.writes_frozen_since IS NULL
                   AND coalesce(t.placement_database, current_database()) = current_database()
                   AND coalesce(t.placement_state, 'ready') = 'ready'
                 ORDER BY c.created_at
                 LIMIT 1
                   FOR UPDATE OF c SKIP LOCKED) next
         WHERE j.tenant_id = next.tenant_id AND j.id = next.id
        RETURNING j.tenant_id, j.id
    $$;

CREATE OR REPLACE FUNCTION discard_expired_exports()
    RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        WITH discarded AS (
            UPDATE export_jobs j SET content = NULL
              FROM tenants t
             WHERE t.id = j.tenant_id AND j.content IS NOT NULL AND j.expires_at < now()
               AND t.writes_frozen_since IS NULL
               AND coalesce(t.placement_database, current_database()) = current_database()
               AND coalesce(t.placement_state, 'ready') = 'ready'
            RETURNING 1)
        SELECT count(*) FROM discarded
    $$;
