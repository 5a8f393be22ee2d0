-- The order form's picker, a third group between the two of picker_under_rls: SKUs that start
-- with the text (people type a SKU from its start too). Measured before, as the app role on
-- 100,000 products: "SKU-04" matched 10,000 SKUs and none in the first 1,000 names, so the
-- "contains" function took its trigram path and sorted all 10,000 (26 ms); every other term
-- of the bench's typing took 0.5 to 6 ms.
--
-- SKUs are stored upper-case, of A-Z 0-9 - _ . / (domain::Sku). In the database's own
-- collation a range over them need not be a prefix (linguistic collations weigh punctuation
-- apart), so the range runs on the SKU in "C" order: a collation, not a function, so the
-- tenant policy still lets it serve an index scan.
CREATE INDEX products_tenant_active_sku_c_idx ON products (tenant_id, (sku COLLATE "C"), id)
    WHERE archived_at IS NULL;

-- "Contains" now leaves out the SKU group as well as the name group. Replacing keeps the
-- function's owner (its own role) and grants.
CREATE OR REPLACE FUNCTION products_containing(
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
               AND NOT starts_with(w.sku, upper(p_text))
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
               AND NOT starts_with(w.sku, upper(p_text))
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
               AND NOT starts_with(p.name_key, lower(p_text))
               AND NOT starts_with(p.sku, upper(p_text)))
        SELECT h.id, h.sku, h.name, h.price_minor, h.stock
          FROM hits h
         WHERE (h.name_key, h.id) > (coalesce(p_after_key, ''),
                coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
         ORDER BY h.name_key, h.id
         LIMIT p_limit;
END
$$;

