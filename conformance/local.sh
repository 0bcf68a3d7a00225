#!/usr/bin/env bash
# make conformance: builds orgid, starts it on SQLite and again on
# PostgreSQL, creates the test user and clients through the CLI, and runs
# `orgid conformance run --plan all` against each. Exits non-zero on any
# failure. Reports land in ${CONFORMANCE_OUT:-./conformance-reports}.
#
# The dynamic and logout plans register their own clients: orgid runs with
# dynamic registration on (token-protected on SQLite, open on PostgreSQL,
# so both modes are exercised), its outbound fetches (jwks_uri,
# sector_identifier_uri, request_uri, back-channel logout) allowed to reach
# the runner on 127.0.0.1, and a one-second key reload so that
# `orgid keys rotate` (the runner's rotate_keys_command) shows at once.
#
#   DIALECTS="sqlite postgres"   which databases (default both)
#   ORGID_TEST_POSTGRES_URL       administrative PostgreSQL URL
#   PLAN=all                      which plans
set -euo pipefail
cd "$(dirname "$0")/.."

DIALECTS=${DIALECTS:-"sqlite postgres"}
PLAN=${PLAN:-all}
PG_ADMIN=${ORGID_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
OUT=${CONFORMANCE_OUT:-$PWD/conformance-reports}
REDIRECT=http://127.0.0.1:9797/callback
mkdir -p "$OUT"

work=$(mktemp -d)
server_pid=""
dbs_to_drop=()
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  for db in "${dbs_to_drop[@]}"; do psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/orgid" ./cmd/orgid
orgid="$work/orgid"

free_port() {
  local p
  for p in $(seq 18600 18700); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port" >&2; return 1
}

failed=0
for dialect in $DIALECTS; do
  echo "== conformance on $dialect"
  dir="$work/$dialect"; mkdir -p "$dir"
  port=$(free_port)
  export ORGID_ISSUER="http://127.0.0.1:$port" ORGID_LISTEN="127.0.0.1:$port" ORGID_DATA_DIR="$dir/data"
  export ORGID_SECRET="conformance-run-secret-$(date +%s)-not-for-production"
  export ORGID_LOG_LEVEL=warn
  export ORGID_EGRESS_ALLOW_HOSTS=127.0.0.1 ORGID_KEY_RELOAD_INTERVAL=1s
  case "$dialect" in
    sqlite) export ORGID_DATABASE_URL="sqlite:$dir/data/orgid.db" ;;
    postgres)
      db="orgid_conformance_$$_$RANDOM"
      psql "$PG_ADMIN" -qc "CREATE DATABASE $db" >/dev/null
      dbs_to_drop+=("$db")
      export ORGID_DATABASE_URL="${PG_ADMIN%%/postgres\?*}/$db?sslmode=disable" ;;
    *) echo "unknown dialect $dialect" >&2; exit 2 ;;
  esac

  password="conformance-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  "$orgid" migrate >/dev/null
  "$orgid" users create --email conformance@example.com --password "$password" \
      --first-name Ada --last-name Lovelace --email-verified --json >/dev/null
  client() { "$orgid" clients create --name "$1" --redirect-uri "$REDIRECT" --grant authorization_code,refresh_token --first-party --json "${@:2}"; }
  basic=$(client conformance-basic)
  post=$(client conformance-post --token-endpoint-auth-method client_secret_post)
  public=$(client conformance-public --public)
  initial_token=""
  if [ "$dialect" = sqlite ]; then
    export ORGID_REGISTRATION=token
    initial_token=$("$orgid" registration-tokens create --description conformance --expires-in 2h --json | jq -r .token)
  else
    export ORGID_REGISTRATION=open
  fi

  "$orgid" serve >"$dir/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fsS "$ORGID_ISSUER/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "$ORGID_ISSUER/readyz" >/dev/null

  jq -n --arg issuer "$ORGID_ISSUER" --arg redirect "$REDIRECT" --arg password "$password" \
     --arg initial "$initial_token" --arg rotate "$orgid keys rotate >/dev/null" \
     --argjson basic "$basic" --argjson post "$post" --argjson public "$public" '{
    issuer: $issuer, redirect_uri: $redirect,
    clients: {
      client_secret_basic: {client_id: $basic.client_id, client_secret: $basic.client_secret},
      client_secret_post: {client_id: $post.client_id, client_secret: $post.client_secret},
      public: {client_id: $public.client_id}
    },
    user: {identifier: "conformance@example.com", password: $password,
           claims: {email: "conformance@example.com", given_name: "Ada", family_name: "Lovelace", name: "Ada Lovelace"}},
    login: {identifier_field: "identifier", password_field: "password",
            consent: {name: "action", value: "allow"}, organization_field: "org_id",
            logout_confirm: {name: "action", value: "logout"}},
    registration: {initial_access_token: $initial, application_type: "native"},
    rotate_keys_command: $rotate,
    key_rotation_wait: "30s",
    jwks_refresh_delay: "6s",
    logout_wait: "30s"
  }' >"$dir/config.json"

  if ! "$orgid" conformance run --config "$dir/config.json" --plan "$PLAN" --json "$OUT/report-$dialect.json"; then
    failed=1
    echo "-- server log (last 40 lines)"; tail -n 40 "$dir/serve.log"
  fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
exit $failed
