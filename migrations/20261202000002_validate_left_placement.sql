-- Validates the check the previous migration added unvalidated, in a transaction of its own
-- (SHARE UPDATE EXCLUSIVE: every request reads the registry while it scans).
ALTER TABLE tenants VALIDATE CONSTRAINT tenants_placement_check;
