CREATE TABLE users (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    email           text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_sign_in_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    -- One account per mailbox per workspace; the same mailbox may belong to many workspaces.
    CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email)
);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));

GRANT SELECT, INSERT, UPDATE, DELETE ON users TO stockroom_app;

-- tower-sessions' store layout. Created here, by the owner, so the app role needs no DDL rights.
CREATE SCHEMA tower_sessions;
CREATE TABLE tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX session_expiry_idx ON tower_sessions.session (expiry_date);
GRANT USAGE ON SCHEMA tower_sessions TO stockroom_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tower_sessions.session TO stockroom_app;
