#!/bin/sh
# Creates the test user and the three static clients the OpenID Foundation
# suite needs on an orgid instance, then writes the suite's configuration
# with their credentials filled in.
#
#   ISSUER=https://orgid.example.com USER_PASSWORD='…' ./create-clients.sh > orgid-oidf.json
#
# Run it where `orgid` reaches the instance's database (the same
# --database-url / ORGID_DATABASE_URL and --secret as the server), with the
# server running (its discovery document is read). Needs curl and jq.
# REDIRECT_URI defaults to the hosted suite's callback for alias "orgid";
# for a local suite use https://localhost.emobix.co.uk:8443/test/a/orgid/callback.
set -eu

: "${ISSUER:?set ISSUER to orgid's issuer URL}"
: "${USER_PASSWORD:?set USER_PASSWORD for the test user}"
REDIRECT_URI=${REDIRECT_URI:-https://www.certification.openid.net/test/a/orgid/callback}
USER_EMAIL=${USER_EMAIL:-conformance@example.com}
HERE=$(dirname "$0")
AUTHORIZATION_ENDPOINT=$(curl -fsS "$ISSUER/.well-known/openid-configuration" | jq -r .authorization_endpoint)

orgid users create --email "$USER_EMAIL" --password "$USER_PASSWORD" \
    --first-name Ada --last-name Lovelace --json >/dev/null

client() {
    orgid clients create --name "$1" --redirect-uri "$REDIRECT_URI" \
        --grant authorization_code --grant refresh_token \
        --scope openid --scope profile --scope email --scope address --scope phone --scope offline_access \
        --token-endpoint-auth-method "$2" --first-party --json
}

basic=$(client "OIDF conformance: client_secret_basic" client_secret_basic)
second=$(client "OIDF conformance: second client" client_secret_basic)
post=$(client "OIDF conformance: client_secret_post" client_secret_post)

jq --arg issuer "$ISSUER" --arg authz "$AUTHORIZATION_ENDPOINT" --arg password "$USER_PASSWORD" --arg email "$USER_EMAIL" \
   --argjson basic "$basic" --argjson second "$second" --argjson post "$post" '
    .server.discoveryUrl = ($issuer + "/.well-known/openid-configuration")
  | .server.login_hint = $email
  | .client = {client_id: $basic.client_id, client_secret: $basic.client_secret}
  | .client2 = {client_id: $second.client_id, client_secret: $second.client_secret}
  | .client_secret_post = {client_id: $post.client_id, client_secret: $post.client_secret}
  | .browser[0].match = ($authz + "*")
  | .browser[0].tasks[0].match = ($issuer + "/sign-in*")
  | .browser[0].tasks[0].commands[0][3] = $email
  | .browser[0].tasks[0].commands[1][3] = $password
  | .browser[0].tasks[1].match = ($issuer + "/*")
' "$HERE/orgid-static-clients.json"
