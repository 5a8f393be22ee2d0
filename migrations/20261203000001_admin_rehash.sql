-- A console account's password hash made with older settings is replaced at its next
-- sign-in, as the app role. This lets that role overwrite an existing account's hash, where
-- before it could only add accounts; either way a compromised app role could reach the
-- console, and the update is guarded in the statement to the hash just checked.
GRANT UPDATE (password_hash) ON platform_admins TO stockroom_app;
