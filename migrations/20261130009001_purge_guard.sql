-- Set by the purge before it deletes anything: from then on the console can neither restore
-- nor reactivate the workspace (it would come back without part of its data), and the lock
-- both take on the tenant's row orders a restore and the start of a purge one after the other.
ALTER TABLE tenants ADD COLUMN purge_started_at timestamptz;
