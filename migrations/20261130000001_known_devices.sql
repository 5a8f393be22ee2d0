-- Devices a member has signed in from. A sign-in from one of them is not held back by the
-- failures of strangers guessing at the same account (OWASP's "device cookie"): nobody can
-- lock a member out of their own browser by failing on purpose.
CREATE TABLE known_devices (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    user_id      uuid NOT NULL,
    -- SHA-256 of the device cookie: the table holds nothing that works as a cookie.
    token_digest text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, token_digest),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX known_devices_tenant_user_idx ON known_devices (tenant_id, user_id, last_used_at);

ALTER TABLE known_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE known_devices FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON known_devices
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, UPDATE, DELETE ON known_devices TO stockroom_app;

-- A failure made from a known device counts against that device only.
ALTER TABLE sign_in_failures ADD COLUMN device_digest text;
CREATE INDEX sign_in_failures_device_idx ON sign_in_failures (tenant_id, device_digest, failed_at)
    WHERE device_digest IS NOT NULL;
