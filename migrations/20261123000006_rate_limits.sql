-- Attempts at actions anyone can trigger without signing in (registering a workspace, asking
-- for the workspace list by email), counted per bucket and key (a client address, an email).
-- Platform data: it is about callers, not tenants.
CREATE TABLE rate_limit_events (
    bucket text NOT NULL,
    key    text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_limit_events_lookup_idx ON rate_limit_events (bucket, key, at);
GRANT SELECT, INSERT, DELETE ON rate_limit_events TO stockroom_app;
