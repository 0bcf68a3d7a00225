-- Removing an application's access (account pages) and operator queries
-- find a user's codes and tokens of one client.
CREATE INDEX IF NOT EXISTS oauth2_codes_client_subject ON oauth2_codes (client_id, subject);
--bun:split
CREATE INDEX IF NOT EXISTS oauth2_access_tokens_client_subject ON oauth2_access_tokens (client_id, subject);
--bun:split
CREATE INDEX IF NOT EXISTS oauth2_refresh_tokens_client_subject ON oauth2_refresh_tokens (client_id, subject);
