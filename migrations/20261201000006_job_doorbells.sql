-- A dedicated workspace's export and import jobs wait in its own database, where the
-- workers' claim (which reads the queue of the database it runs in) does not look. Queuing
-- one marks the workspace's registry row in the control database: the workers look at the
-- marked workspaces' databases after their own queue, and clear a mark once that
-- workspace's queue is empty. Nullable columns without a default: no rewrite, no long lock.
ALTER TABLE tenants
    ADD COLUMN exports_waiting_since timestamptz,
    ADD COLUMN imports_waiting_since timestamptz;
GRANT UPDATE (exports_waiting_since, imports_waiting_since) ON tenants TO stockroom_app;
