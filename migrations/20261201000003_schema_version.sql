-- The server's check that the database has every migration its build expects: the versions
-- applied, read through a function of its own role (the application role may not read sqlx's
-- bookkeeping table). The table does not exist when migrations are applied by hand (psql, as
-- `./dev prepare` does): then the function answers an empty list.
GRANT USAGE ON SCHEMA public TO stockroom_fn_schema_version;
DO $$
BEGIN
    IF to_regclass('public._sqlx_migrations') IS NOT NULL THEN
        GRANT SELECT ON _sqlx_migrations TO stockroom_fn_schema_version;
    END IF;
END
$$;
CREATE FUNCTION applied_migrations()
    RETURNS bigint[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        IF to_regclass('public._sqlx_migrations') IS NULL THEN
            RETURN '{}';
        END IF;
        RETURN ARRAY(SELECT version FROM _sqlx_migrations WHERE success ORDER BY version);
    END
    $$;
REVOKE ALL ON FUNCTION applied_migrations() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION applied_migrations() TO stockroom_app;
-- Taking ownership needs CREATE on the schema at that moment, and only then.
GRANT CREATE ON SCHEMA public TO stockroom_fn_schema_version;
ALTER FUNCTION applied_migrations() OWNER TO stockroom_fn_schema_version;
REVOKE CREATE ON SCHEMA public FROM stockroom_fn_schema_version;
