-- Team members: invitations, removal, password resets, and an index from a member to their
-- sessions so that access can be ended at once.

-- Removing a member keeps the row: orders and their history still name who placed and moved
-- them. A removed member cannot sign in, is in no list, and an invitation can bring them back.
ALTER TABLE users ADD COLUMN removed_at timestamptz;

-- Every session record names the member it signs in (NULL before sign-in), so removing a
-- member, changing their role or their password can delete their sessions in one statement.
-- The session table stays platform data: it is read by the digest of a secret id before any
-- tenant is known, and a row is worthless without the cookie it was made for.
ALTER TABLE tower_sessions.session ADD COLUMN tenant_id uuid, ADD COLUMN user_id uuid;
-- Sessions signed in before this migration get their member too, or removing that member or
-- resetting their password would miss them. (A record is tower-sessions' JSON: the signed-in
-- member is under data.auth.)
UPDATE tower_sessions.session
   SET tenant_id = (convert_from(data, 'UTF8')::jsonb #>> '{data,auth,tenant_id}')::uuid,
       user_id = (convert_from(data, 'UTF8')::jsonb #>> '{data,auth,user_id}')::uuid
 WHERE convert_from(data, 'UTF8')::jsonb #> '{data,auth}' IS NOT NULL;
CREATE INDEX session_member_idx ON tower_sessions.session (tenant_id, user_id)
    WHERE tenant_id IS NOT NULL;

-- Single-use links sent by mail. The welcome hand-off already lives here; password resets
-- join it, told apart by purpose so a reset link never works as a welcome ticket.
ALTER TABLE sign_in_tickets ADD COLUMN purpose text NOT NULL DEFAULT 'welcome'
    CHECK (purpose IN ('welcome', 'password_reset'));
ALTER TABLE sign_in_tickets ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX sign_in_tickets_user_idx ON sign_in_tickets (tenant_id, user_id);

CREATE TABLE invitations (
    tenant_id    uuid NOT NULL REFERENCES tenants (id),
    id           uuid NOT NULL,
    email        text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    role         text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    -- SHA-256 of the token in the link: the database never holds a link that works.
    token_digest text NOT NULL,
    invited_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT invitations_tenant_token_key UNIQUE (tenant_id, token_digest),
    FOREIGN KEY (tenant_id, invited_by) REFERENCES users (tenant_id, id),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- One open invitation per mailbox per workspace; resending renews it instead.
CREATE UNIQUE INDEX invitations_tenant_open_email_key ON invitations (tenant_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
CREATE INDEX invitations_tenant_newest_idx ON invitations (tenant_id, created_at DESC);

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (tenant_id = (SELECT app_current_tenant()))
    WITH CHECK (tenant_id = (SELECT app_current_tenant()));
GRANT SELECT, INSERT, UPDATE ON invitations TO stockroom_app;

-- "Find my workspace" must not list workspaces that removed the person.
CREATE OR REPLACE FUNCTION workspaces_for_email(p_email text)
    RETURNS TABLE (slug text, name text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
        PERFORM set_config('app.directory_lookup', 'on', true);
        RETURN QUERY
            SELECT t.slug, t.name
              FROM users u
              JOIN tenants t ON t.id = u.tenant_id
             WHERE u.email = lower(p_email) AND u.removed_at IS NULL AND t.status = 'active'
             ORDER BY t.name, t.slug;
        PERFORM set_config('app.directory_lookup', 'off', true);
    END
    $$;
