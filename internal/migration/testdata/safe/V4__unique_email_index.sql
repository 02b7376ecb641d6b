CREATE UNIQUE INDEX CONCURRENTLY users_email_uniq ON users (email);
