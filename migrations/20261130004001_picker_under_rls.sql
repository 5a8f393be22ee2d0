-- The picker's indexes were measured as the owner, who is not held to row-level security. As
-- the app role, under the forced policies, PostgreSQL may use a condition of the query inside
-- an index scan only when every function in it is LEAKPROOF (it would otherwise run on other
-- tenants' rows before the policy). lower(), || and LIKE are not, so both indexes went
-- unused: with 100,000 products, typing "Product 4" scanned 33,000 index entries (59 ms) and
-- a rare term read every row of the tenant (281 ms), where the owner took 0.5 and 3 ms.
--
-- 1. The name in index order is a stored column, compared with text's own (leakproof)
--    operators: the start of a name and the keyset cursor become index conditions again.
ALTER TABLE products ADD COLUMN name_key text COLLATE "C" GENERATED ALWAYS AS (lower(name)) STORED;
CREATE INDEX products_tenant_active_name_key_idx ON products (tenant_id, name_key, id)
    WHERE archived_at IS NULL;
DROP INDEX products_tenant_active_name_idx;

-- 2. "Contains" has no leakproof form, so it runs in a function of its own, as a role that
--    the policies do not narrow and that can do nothing else: the function itself keeps to
--    the caller's tenant (app_current_tenant(), set by the caller's scope; there is no tenant
--    parameter to pass another one) and to active products, and answers only the columns the
--    picker shows.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stockroom_fn_product_search') THEN
        RAISE EXCEPTION 'role stockroom_fn_product_search does not exist: create it (NOLOGIN) and grant it to the migrating role before migrating (README, Database roles)';
    END IF;
    IF NOT pg_has_role(current_user, 'stockroom_fn_product_search', 'MEMBER') THEN
        RAISE EXCEPTION 'the migrating role must be a member of stockroom_fn_product_search (GRANT stockroom_fn_product_search TO %)', current_user;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO stockroom_fn_product_search;
GRANT SELECT ON products TO stockroom_fn_product_search;
CREATE POLICY fn_product_search ON products FOR SELECT TO stockroom_fn_product_search
    USING (true);

-- Active products of the caller's tenant whose name or SKU contains p_text (p_pattern is it
-- as a LIKE pattern, escaped by the caller) but whose name does not start with it, in name
-- order after (p_after_key, p_after_id). When the next p_window products in name order hold
-- p_limit matches, the term is common and those are the answer (counted first, then read: a
-- function cannot take back rows it has returned); otherwise the term is rare and its
-- matches come from the trigram index, then sorted.
CREATE FUNCTION products_containing(
    p_pattern text, p_text text, p_after_key text, p_after_id uuid, p_window integer,
    p_limit integer)
    RETURNS TABLE (id uuid, sku text, name text, price_minor bigint, stock integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
#variable_conflict use_column
DECLARE
    v_tenant uuid := app_current_tenant();
    v_in_window integer;
BEGIN
    IF v_tenant IS NULL THEN
        RETURN;
    END IF;
    SELECT count(*) INTO v_in_window
      FROM (SELECT 1
              FROM (SELECT p.name, p.sku, p.name_key
                      FROM products p
                     WHERE p.tenant_id = v_tenant AND p.archived_at IS NULL
                       AND (p.name_key, p.id) > (coalesce(p_after_key, ''),
                            coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
                     ORDER BY p.name_key, p.id
                     LIMIT p_window) w
             WHERE (lower(w.name) || ' ' || lower(w.sku)) LIKE lower(p_pattern)
               AND NOT starts_with(w.name_key, lower(p_text))
             LIMIT p_limit) enough;
    IF v_in_window >= p_limit THEN
        RETURN QUERY
            SELECT w.id, w.sku, w.name, w.price_minor, w.stock
              FROM (SELECT p.id, p.sku, p.name, p.price_minor, p.stock, p.name_key
                      FROM products p
                     WHERE p.tenant_id = v_tenant AND p.archived_at IS NULL
                       AND (p.name_key, p.id) > (coalesce(p_after_key, ''),
                            coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
                     ORDER BY p.name_key, p.id
                     LIMIT p_window) w
             WHERE (lower(w.name) || ' ' || lower(w.sku)) LIKE lower(p_pattern)
               AND NOT starts_with(w.name_key, lower(p_text))
             ORDER BY w.name_key, w.id
             LIMIT p_limit;
        RETURN;
    END IF;
    -- Rare: every match from the trigram index, then sorted (few rows).
    RETURN QUERY
        WITH hits AS MATERIALIZED (
            SELECT p.id, p.sku, p.name, p.price_minor, p.stock, p.name_key
              FROM products p
             WHERE p.tenant_id = v_tenant AND p.archived_at IS NULL
               AND (lower(p.name) || ' ' || lower(p.sku)) LIKE lower(p_pattern)
               AND NOT starts_with(p.name_key, lower(p_text)))
        SELECT h.id, h.sku, h.name, h.price_minor, h.stock
          FROM hits h
         WHERE (h.name_key, h.id) > (coalesce(p_after_key, ''),
                coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
         ORDER BY h.name_key, h.id
         LIMIT p_limit;
END
$$;
REVOKE ALL ON FUNCTION products_containing(text, text, text, uuid, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION products_containing(text, text, text, uuid, integer, integer) TO stockroom_app;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_product_search;
ALTER FUNCTION products_containing(text, text, text, uuid, integer, integer) OWNER TO stockroom_fn_product_search;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_product_search;
