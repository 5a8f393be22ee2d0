-- A console account's password hash made with older settings is replaced at its next
-- sign-in, as the app role. That role can already create console accounts, so this gives it
-- no new power over them.
GRANT UPDATE (password_hash) ON platform_admins TO stockroom_app;
