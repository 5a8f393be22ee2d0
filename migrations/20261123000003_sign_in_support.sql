-- Single-use hand-off from the public site to a workspace's own host: the new owner registers
-- on the bare domain, whose cookie cannot reach slug.<base>, and is signed in there by a ticket.
CREATE TABLE sign_in_tickets (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    token_digest text NOT NULL,
    user_id      uuid NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_digest),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE sign_in_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sign_in_tickets
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, DELETE ON sign_in_tickets TO stockroom_app;

-- Failed sign-ins per (tenant, email), for throttling. Tenant data like any other.
CREATE TABLE sign_in_failures (
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    email     text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_lookup_idx ON sign_in_failures (tenant_id, email, failed_at);

ALTER TABLE sign_in_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE sign_in_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sign_in_failures
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, DELETE ON sign_in_failures TO stockroom_app;

-- Failed sign-ins per client address, across every workspace: one address guessing in many
-- workspaces is one attacker. Platform data; it records no tenant.
CREATE TABLE sign_in_failures_by_address (
    address   inet NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_by_address_idx ON sign_in_failures_by_address (address, failed_at);
GRANT SELECT, INSERT, DELETE ON sign_in_failures_by_address TO stockroom_app;
