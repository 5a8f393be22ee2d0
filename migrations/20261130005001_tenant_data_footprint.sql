-- The console's Load page: how many rows a workspace holds and roughly how much disk they
-- take, numbers only, read by a role of its own like every function that reads across
-- tenants.
--
-- Bytes are an estimate: each table's disk use with its indexes and TOAST
-- (pg_total_relation_size) divided by its live rows from the statistics collector, times the
-- workspace's rows there. Exact sizes would measure every row of the workspace; this counts
-- them through the tenant_id indexes, and the statistics lag by a second, not by an ANALYZE.
GRANT USAGE ON SCHEMA public TO stockroom_fn_data_footprint;
GRANT SELECT ON users, customers, products, orders, order_lines, order_events, invitations,
    api_tokens, export_jobs, product_imports, product_import_rows TO stockroom_fn_data_footprint;
CREATE POLICY fn_data_footprint ON users FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON customers FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON products FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON orders FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON order_lines FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON order_events FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON invitations FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON api_tokens FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON export_jobs FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON product_imports FOR SELECT TO stockroom_fn_data_footprint USING (true);
CREATE POLICY fn_data_footprint ON product_import_rows FOR SELECT TO stockroom_fn_data_footprint USING (true);

CREATE FUNCTION tenant_data_footprint(p_tenants uuid[])
    RETURNS TABLE (tenant_id uuid, row_count bigint, approx_bytes bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
        WITH held (tenant_id, rel, row_count) AS (
            SELECT t.id, r.rel, r.row_count
              FROM unnest(p_tenants) AS t(id)
             CROSS JOIN LATERAL (VALUES
                ('users'::regclass, (SELECT count(*) FROM users x WHERE x.tenant_id = t.id)),
                ('customers'::regclass, (SELECT count(*) FROM customers x WHERE x.tenant_id = t.id)),
                ('products'::regclass, (SELECT count(*) FROM products x WHERE x.tenant_id = t.id)),
                ('orders'::regclass, (SELECT count(*) FROM orders x WHERE x.tenant_id = t.id)),
                ('order_lines'::regclass, (SELECT count(*) FROM order_lines x WHERE x.tenant_id = t.id)),
                ('order_events'::regclass, (SELECT count(*) FROM order_events x WHERE x.tenant_id = t.id)),
                ('invitations'::regclass, (SELECT count(*) FROM invitations x WHERE x.tenant_id = t.id)),
                ('api_tokens'::regclass, (SELECT count(*) FROM api_tokens x WHERE x.tenant_id = t.id)),
                ('export_jobs'::regclass, (SELECT count(*) FROM export_jobs x WHERE x.tenant_id = t.id)),
                ('product_imports'::regclass, (SELECT count(*) FROM product_imports x WHERE x.tenant_id = t.id)),
                ('product_import_rows'::regclass,
                    (SELECT count(*) FROM product_import_rows x WHERE x.tenant_id = t.id))
             ) AS r(rel, row_count)
        ),
        per_row (rel, bytes) AS (
            SELECT s.relid::regclass,
                   pg_total_relation_size(s.relid)::numeric / greatest(s.n_live_tup, 1)
              FROM pg_stat_user_tables s
        )
        SELECT h.tenant_id, sum(h.row_count)::bigint,
               coalesce(sum(h.row_count * p.bytes), 0)::bigint
          FROM held h
          LEFT JOIN per_row p ON p.rel = h.rel
         GROUP BY h.tenant_id
    $$;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_data_footprint;
ALTER FUNCTION tenant_data_footprint(uuid[]) OWNER TO stockroom_fn_data_footprint;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_data_footprint;
