-- The public JSON API: tokens a workspace's owners and admins hand to a shop, an ERP or a
-- script, and the answers to requests made with an idempotency key.

-- A token acts as the member who created it, with at most that member's CURRENT role (read
-- tokens only read). Only a SHA-256 digest of the secret is kept; the prefix (`sr_` and 8
-- random characters, also the start of the secret) names it in lists and logs.
CREATE TABLE api_tokens (
    tenant_id     uuid NOT NULL REFERENCES tenants (id),
    id            uuid NOT NULL,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role          text NOT NULL CHECK (role IN ('read', 'write')),
    prefix        text NOT NULL CHECK (prefix ~ '^sr_[a-z0-9]{8}$'),
    secret_digest text NOT NULL CHECK (secret_digest ~ '^[0-9a-f]{64}$'),
    created_by    uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id),
    -- Every call looks its token up by digest, inside the Host's tenant.
    CONSTRAINT api_tokens_tenant_digest_key UNIQUE (tenant_id, secret_digest)
);
CREATE INDEX api_tokens_tenant_newest_idx ON api_tokens (tenant_id, created_at DESC, id DESC);

-- One row per (token, Idempotency-Key): written "in progress" (status NULL) before the
-- request's action runs and completed with its answer afterwards, so a retry gets the first
-- answer and the action never runs twice. Rows older than 24 hours are deleted as new ones
-- are written.
CREATE TABLE api_idempotency (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    token_id     uuid NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    status       smallint CHECK (status BETWEEN 100 AND 599),
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (tenant_id, token_id, key),
    FOREIGN KEY (tenant_id, token_id) REFERENCES api_tokens (tenant_id, id)
);
CREATE INDEX api_idempotency_tenant_age_idx ON api_idempotency (tenant_id, token_id, created_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_tokens', 'api_idempotency'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (tenant_id = (SELECT app_current_tenant()))
                 WITH CHECK (tenant_id = (SELECT app_current_tenant()))', t);
    END LOOP;
END
$$;

-- Tokens are revoked by a timestamp, never deleted (their idempotency rows and the audit of
-- who made them stay readable).
GRANT SELECT, INSERT ON api_tokens TO stockroom_app;
GRANT UPDATE (last_used_at, revoked_at) ON api_tokens TO stockroom_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON api_idempotency TO stockroom_app;

-- Creating tokens counts against the plan.
INSERT INTO limit_kinds (code, name, unit) VALUES ('max_api_tokens', 'API tokens', 'API tokens');
INSERT INTO plan_limits (plan_code, limit_code, max_value) VALUES
    ('FREE', 'max_api_tokens', 2),
    ('PRO', 'max_api_tokens', 20),
    ('ENTERPRISE', 'max_api_tokens', NULL);
