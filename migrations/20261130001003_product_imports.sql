-- Product imports from CSV. An upload is parsed and checked at once and kept here as a
-- preview (one row per line of the file, with its verdict); applying it writes the products
-- in batches, each in its own transaction, and records how far it got, so a large import
-- runs in the background, shows its progress and resumes where a dead worker stopped.
CREATE TABLE product_imports (
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    id             uuid NOT NULL,
    file_name      text NOT NULL CHECK (length(file_name) <= 200),
    uploaded_by    uuid NOT NULL,
    status         text NOT NULL DEFAULT 'preview'
                   CHECK (status IN ('preview', 'queued', 'running', 'done', 'failed')),
    -- What the preview found (lines of the file, and how many of them would do what).
    rows_total     integer NOT NULL CHECK (rows_total >= 0),
    rows_invalid   integer NOT NULL CHECK (rows_invalid >= 0),
    rows_new       integer NOT NULL CHECK (rows_new >= 0),
    rows_update    integer NOT NULL CHECK (rows_update >= 0),
    rows_unchanged integer NOT NULL CHECK (rows_unchanged >= 0),
    -- What applying did: the last line written, and the outcomes so far.
    applied_through integer NOT NULL DEFAULT 0,
    created        integer NOT NULL DEFAULT 0,
    updated        integer NOT NULL DEFAULT 0,
    unchanged      integer NOT NULL DEFAULT 0,
    refused        integer NOT NULL DEFAULT 0,
    -- The plan's product limit that refused rows, for the message that says so.
    refused_at_limit bigint,
    applied_by     uuid,
    error          text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    -- A running import touches this with every batch; one that stops touching it died with
    -- its worker and is taken up again.
    heartbeat_at   timestamptz,
    finished_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, uploaded_by) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, applied_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX product_imports_tenant_newest_idx ON product_imports (tenant_id, created_at DESC, id DESC);
CREATE INDEX product_imports_tenant_waiting_idx ON product_imports (tenant_id, created_at)
    WHERE status IN ('queued', 'running');

CREATE TABLE product_import_rows (
    tenant_id   uuid NOT NULL,
    import_id   uuid NOT NULL,
    -- The line of the file (the header is line 1), as a spreadsheet numbers it.
    line_no     integer NOT NULL CHECK (line_no > 1),
    -- As read from the file (cut short and cleaned of control characters on an error line).
    sku         text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    -- NULL on an error line.
    price_minor bigint CHECK (price_minor >= 0),
    stock       integer CHECK (stock >= 0),
    verdict     text NOT NULL CHECK (verdict IN ('new', 'update', 'unchanged', 'error')),
    problem     text,
    outcome     text CHECK (outcome IN ('created', 'updated', 'unchanged', 'refused')),
    PRIMARY KEY (tenant_id, import_id, line_no),
    FOREIGN KEY (tenant_id, import_id) REFERENCES product_imports (tenant_id, id) ON DELETE CASCADE
);
-- The preview's "problems only" view.
CREATE INDEX product_import_rows_tenant_problem_idx ON product_import_rows (tenant_id, import_id, line_no)
    WHERE verdict = 'error' OR outcome = 'refused';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['product_imports', 'product_import_rows'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (tenant_id = (SELECT app_current_tenant()))
                 WITH CHECK (tenant_id = (SELECT app_current_tenant()))', t);
    END LOOP;
END
$$;
-- DELETE: previews older than a week are cleared away by the next upload of the workspace.
GRANT SELECT, INSERT, UPDATE, DELETE ON product_imports, product_import_rows TO stockroom_app;

-- The import worker's claim, like the export worker's: the oldest waiting import of any
-- workspace (or one whose worker stopped), as (tenant, id) only, run as a role of its own.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stockroom_fn_claim_import') THEN
        RAISE EXCEPTION 'role stockroom_fn_claim_import does not exist: create it (NOLOGIN) and grant it to the migrating role before migrating (README, Database roles)';
    END IF;
    IF NOT pg_has_role(current_user, 'stockroom_fn_claim_import', 'MEMBER') THEN
        RAISE EXCEPTION 'the migrating role must be a member of stockroom_fn_claim_import (GRANT stockroom_fn_claim_import TO %)', current_user;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO stockroom_fn_claim_import;
GRANT SELECT, UPDATE ON product_imports TO stockroom_fn_claim_import;
CREATE POLICY fn_claim_import ON product_imports FOR ALL TO stockroom_fn_claim_import
    USING (true) WITH CHECK (true);
CREATE FUNCTION claim_import_job(p_stale_after_secs double precision)
    RETURNS TABLE (tenant_id uuid, id uuid)
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        UPDATE product_imports j
           SET status = 'running', started_at = coalesce(j.started_at, now()), heartbeat_at = now()
          FROM (SELECT c.tenant_id, c.id FROM product_imports c
                 WHERE c.status = 'queued'
                    OR (c.status = 'running'
                        AND c.heartbeat_at < now() - make_interval(secs => p_stale_after_secs))
                 ORDER BY c.created_at
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED) next
         WHERE j.tenant_id = next.tenant_id AND j.id = next.id
        RETURNING j.tenant_id, j.id
    $$;
REVOKE ALL ON FUNCTION claim_import_job(double precision) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_import_job(double precision) TO stockroom_app;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_claim_import;
ALTER FUNCTION claim_import_job(double precision) OWNER TO stockroom_fn_claim_import;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_claim_import;
