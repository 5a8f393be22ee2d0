-- Validates the check the previous migration added unvalidated, in a transaction of its own
-- (SHARE UPDATE EXCLUSIVE: reads and writes of export_jobs go on while it scans).
ALTER TABLE export_jobs VALIDATE CONSTRAINT export_jobs_kind_check;
