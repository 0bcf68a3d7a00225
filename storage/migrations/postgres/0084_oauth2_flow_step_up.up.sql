-- Package oidc: when an authorization flow sent the user to a second
-- factor because the request asked for a stronger acr (step-up). A flow
-- steps up once; if the user comes back still short of it, the request's
-- acr is unmet.
ALTER TABLE oauth2_flows ADD COLUMN step_up_at TIMESTAMPTZ;
