-- A workspace its owner deleted is closed at once and kept until delete_after (the grace
-- period, during which the console can restore it); then it is erased (platform::purge) and
-- marked purged, with its slug given back. The registry row stays: the audit log names it.
ALTER TABLE tenants DROP CONSTRAINT tenants_status_check;
ALTER TABLE tenants ADD CONSTRAINT tenants_status_check
    CHECK (status IN ('active', 'suspended', 'deleting', 'purged'));
ALTER TABLE tenants ADD COLUMN delete_after timestamptz, ADD COLUMN purged_at timestamptz;
ALTER TABLE tenants ADD CONSTRAINT tenants_deleting_has_a_date
    CHECK (status <> 'deleting' OR delete_after IS NOT NULL);
-- The owner's request and the console's restore run as the application role.
GRANT UPDATE (delete_after) ON tenants TO stockroom_app;
-- The purge job's scan for workspaces whose grace period is over.
CREATE INDEX tenants_deleting_idx ON tenants (delete_after) WHERE status = 'deleting';
