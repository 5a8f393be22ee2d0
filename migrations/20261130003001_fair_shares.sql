-- Fair shares: how fast and how much of the shared machinery one workspace may use at once.
-- They sit beside the counted limits so that plans set them and the console overrides them
-- the same way; `kind` tells the two apart (a share is enforced as the workspace works, a
-- quota is counted against rows), and `min_value` / `ceiling` bound what an override may say.
ALTER TABLE limit_kinds
    ADD COLUMN kind text NOT NULL DEFAULT 'quota' CHECK (kind IN ('quota', 'share')),
    ADD COLUMN min_value bigint NOT NULL DEFAULT 0 CHECK (min_value >= 0),
    ADD COLUMN ceiling bigint CHECK (ceiling IS NULL OR ceiling >= min_value);

INSERT INTO limit_kinds (code, name, unit, kind, min_value, ceiling) VALUES
    ('requests_per_minute', 'Requests per minute', 'requests a minute', 'share', 1, NULL),
    ('request_burst', 'Request burst', 'requests at once', 'share', 1, NULL),
    ('connection_share', 'Database connections', '% of the pool', 'share', 1, 100),
    ('statement_timeout_ms', 'Statement timeout', 'ms', 'share', 100, 600000);

-- FREE: 20 requests a second sustained is far above a team at work in the browser, and a
-- quarter of the pool keeps three busy FREE workspaces from starving everyone else.
INSERT INTO plan_limits (plan_code, limit_code, max_value) VALUES
    ('FREE', 'requests_per_minute', 1200),
    ('FREE', 'request_burst', 60),
    ('FREE', 'connection_share', 25),
    ('FREE', 'statement_timeout_ms', 5000),
    ('PRO', 'requests_per_minute', 6000),
    ('PRO', 'request_burst', 200),
    ('PRO', 'connection_share', 40),
    ('PRO', 'statement_timeout_ms', 10000),
    ('ENTERPRISE', 'requests_per_minute', 30000),
    ('ENTERPRISE', 'request_burst', 1000),
    ('ENTERPRISE', 'connection_share', 60),
    ('ENTERPRISE', 'statement_timeout_ms', 20000);
