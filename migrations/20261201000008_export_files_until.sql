-- A dedicated workspace's finished exports keep their files in its own database until they
-- expire, where the discarding pass (which runs against the control database) does not look.
-- Finishing one records here until when the workspace holds files; the pass discards in the
-- databases whose time has come. Nullable, no default: no rewrite, no long lock.
ALTER TABLE tenants ADD COLUMN export_files_until timestamptz;
GRANT UPDATE (export_files_until) ON tenants TO stockroom_app;
