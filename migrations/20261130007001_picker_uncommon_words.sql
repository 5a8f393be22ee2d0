-- The picker's rare path ("contains" with fewer than a page of matches in the window), measured
-- as the app role on the bench's 100,000 products beside 1,000 other workspaces:
--
-- 1. Every search through the trigram index also read the index's pending list, which the
--    stock changes of placed orders fill (a product's update is never HOT: its stock is
--    indexed): 351 pages after one bench run, read in full by every rare search, 3-4 ms of its
--    7-8. A small list is merged into the index by the write that fills it, a few hundred
--    updates apart, instead of growing to the 4 MB default between vacuums.
ALTER INDEX products_tenant_search_idx SET (gin_pending_list_limit = 64);

-- 2. The index intersects the posting lists of every trigram of the text, and a word that most
--    products carry ("product" in "Product 48213", "sku" in "SKU-048213") has lists as long as
--    the catalogue: with the list empty, "product 48213" still took 4 ms where "48213" alone
--    took 2.5. Now the words of the text that half the window carries or more are left out of
--    the index's pattern and checked on the rows it finds (strpos: a condition the index cannot
--    take, so the planner does not put the words back). The window is the sample: the same
--    rows the common path just read. When every word is common, the whole text goes to the
--    index as before. Whatever the sample says, the answer is the same; only its cost moves.
--    Measured on the same data: 3.9 -> 2.9 ms per rare search (28 searches, one connection).
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
    v_uncommon text[];
    v_index_pattern text;
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
    -- Rare. The text's words of three characters or more (shorter ones give the index no
    -- trigram of their own) that fewer than half the window's products carry.
    SELECT array_agg(c.word ORDER BY c.ord) INTO v_uncommon
      FROM (SELECT t.word, t.ord
              FROM unnest(ARRAY(SELECT x FROM regexp_split_to_table(lower(p_text), '[^[:alnum:]]+') x
                                 WHERE length(x) >= 3)) WITH ORDINALITY AS t(word, ord)
             CROSS JOIN (SELECT lower(p.name) || ' ' || lower(p.sku) AS hay
                           FROM products p
                          WHERE p.tenant_id = v_tenant AND p.archived_at IS NULL
                            AND (p.name_key, p.id) > (coalesce(p_after_key, ''),
                                 coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
                          ORDER BY p.name_key, p.id
                          LIMIT p_window) w
             GROUP BY t.word, t.ord
            HAVING 2 * count(*) FILTER (WHERE strpos(w.hay, t.word) > 0) < count(*)) c;
    -- The uncommon words in the text's order: every match contains them so, alphanumerics
    -- needing no LIKE escape.
    v_index_pattern := CASE WHEN v_uncommon IS NULL THEN lower(p_pattern)
                            ELSE '%' || array_to_string(v_uncommon, '%') || '%' END;
    RETURN QUERY
        WITH hits AS MATERIALIZED (
            SELECT p.id, p.sku, p.name, p.price_minor, p.stock, p.name_key
              FROM products p
             WHERE p.tenant_id = v_tenant AND p.archived_at IS NULL
               AND (lower(p.name) || ' ' || lower(p.sku)) LIKE v_index_pattern
               AND strpos(lower(p.name) || ' ' || lower(p.sku), lower(p_text)) > 0
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
