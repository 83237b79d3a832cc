#!/usr/bin/env bash
# Bring the docker-compose.yml network from nothing to usable, or check that it still is:
#
#   1. .env: a fresh 32-byte master key per node (kept if .env already has them), mode 0600;
#   2. `mpcd init` in each node's volume (a new Ed25519 identity, encrypted under that master key),
#      then the peer ids of the nodes and the coordinator into .env — the allow-lists need them;
#   3. `up -d`, waiting until the coordinator and the three nodes report healthy;
#   4. the first (admin) account, from the coordinator's one-time setup token; the CLI's URL and
#      token are saved in the `mpc-config` volume, so `docker compose run --rm mpc …` just works;
#   5. the three nodes registered with the coordinator, and online.
#
# Every step is idempotent: running it again on a working network changes nothing.
#
#   scripts/compose-init.sh [--no-build]
#
# Environment: MPCD_ENV_FILE (default ./.env), COMPOSE_PROJECT_NAME (compose's own), MPCD_COMPOSE
# (the compose command; default `docker compose` when it works, else `docker-compose`),
# MPCD_WAIT_S (health wait, default 180).
set -euo pipefail
cd "$(dirname "$0")/.."

env_file="${MPCD_ENV_FILE:-.env}"
wait_s="${MPCD_WAIT_S:-180}"
build=1
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose-init: unknown argument: $a (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[compose-init %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'compose-init: %s\n' "$*" >&2; exit 1; }

if [ -n "${MPCD_COMPOSE:-}" ]; then
  read -r -a compose <<<"$MPCD_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  die "neither 'docker compose' (v2) nor 'docker-compose' (v1) is installed"
fi
dc() { "${compose[@]}" --env-file "$env_file" "$@"; }
docker info >/dev/null 2>&1 || die "no Docker engine answers (is dockerd running? see docs/operations.md)"

# ---- 1. master keys ------------------------------------------------------------------------------
umask 077
get() { sed -n "s/^$1=//p" "$env_file" 2>/dev/null | tail -1; }
hex32() {
  if command -v openssl >/dev/null; then openssl rand -hex 32; else od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; fi
}
declare -A val
for k in NODE_A_MASTER_KEY NODE_B_MASTER_KEY NODE_C_MASTER_KEY NODE_A_PEER_ID NODE_B_PEER_ID \
  NODE_C_PEER_ID COORDINATOR_PEER_ID; do
  val[$k]="$(get "$k")"
done
for n in A B C; do
  k="NODE_${n}_MASTER_KEY"
  if [ -z "${val[$k]}" ]; then
    val[$k]="$(hex32)"
    say "generated $k"
  elif ! [[ "${val[$k]}" =~ ^[0-9a-fA-F]{64}$ ]]; then
    die "$env_file: $k must be 64 hex digits"
  fi
done
write_env() {
  local tmp="$env_file.tmp.$$"
  {
    echo "# Written by scripts/compose-init.sh. SECRET: the master keys decrypt the node volumes."
    echo "# Keep an offline copy of each key; without it a node's volume cannot be read."
    for k in NODE_A_MASTER_KEY NODE_B_MASTER_KEY NODE_C_MASTER_KEY NODE_A_PEER_ID NODE_B_PEER_ID \
      NODE_C_PEER_ID COORDINATOR_PEER_ID; do
      echo "$k=${val[$k]}"
    done
    # Keep the optional settings an operator added.
    [ -f "$env_file" ] && grep -Ev '^(#|$|NODE_[ABC]_(MASTER_KEY|PEER_ID)=|COORDINATOR_PEER_ID=)' "$env_file" || true
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$env_file"
}
write_env

if [ "$build" = 1 ]; then
  say "building the image (docker build --network host)"
  dc build coordinator
fi

# ---- 2. identities and peer ids ------------------------------------------------------------------
# `run --no-deps`: nothing else starts. The allow-list variables are blanked for init, since the
# peer ids they are made of are what this step finds out.
blank=(-e MPCD_PEERS= -e MPCD_COORDINATOR= -e MPCD_BOOTSTRAP=)
for n in a b c; do
  N=$(echo "$n" | tr a-z A-Z)
  dc run --rm -T --no-deps "${blank[@]}" "node-$n" mpcd init >/dev/null
  id="$(dc run --rm -T --no-deps "${blank[@]}" "node-$n" mpcd id | head -1 | tr -d '\r')"
  [[ "$id" =~ ^12D3KooW[1-9A-HJ-NP-Za-km-z]+$ ]] || die "node-$n: mpcd id printed '$id', not a peer id"
  [ -z "${val[NODE_${N}_PEER_ID]}" ] || [ "${val[NODE_${N}_PEER_ID]}" = "$id" ] ||
    die "node-$n: its volume holds peer id $id but $env_file says ${val[NODE_${N}_PEER_ID]}"
  val[NODE_${N}_PEER_ID]="$id"
  say "node-$n is $id"
done
id="$(dc run --rm -T --no-deps coordinator mpc-coordinator id | head -1 | tr -d '\r')"
[[ "$id" =~ ^12D3KooW[1-9A-HJ-NP-Za-km-z]+$ ]] || die "coordinator: id printed '$id', not a peer id"
val[COORDINATOR_PEER_ID]="$id"
say "coordinator is $id"
write_env

# ---- 3. start, health-gated ----------------------------------------------------------------------
say "starting the coordinator and three nodes"
dc up -d coordinator node-a node-b node-c
deadline=$((SECONDS + wait_s))
for s in coordinator node-a node-b node-c; do
  cid="$(dc ps -q "$s")"
  [ -n "$cid" ] || die "$s did not start (${compose[*]} logs $s)"
  until [ "$(docker inspect -f '{{.State.Health.Status}}' "$cid")" = healthy ]; do
    [ "$(docker inspect -f '{{.State.Running}}' "$cid")" = true ] ||
      die "$s exited: $(dc logs --no-color --tail 20 "$s")"
    [ $SECONDS -lt $deadline ] || die "$s not healthy after ${wait_s}s: $(dc logs --no-color --tail 20 "$s")"
    sleep 1
  done
done
say "all four healthy"

# ---- 4. the admin account --------------------------------------------------------------------------
mpc() { dc run --rm -T mpc "$@"; }
if mpc nodes list --json >/dev/null 2>&1; then
  say "the mpc CLI is already logged in"
else
  token="$(dc logs --no-color coordinator | sed -n 's/.*setup token: \(setup_[A-Za-z0-9_-]*\).*/\1/p' | tail -1)"
  [ -n "$token" ] || die "no setup token in the coordinator's output: an account exists already; log in with
  ${compose[*]} run --rm mpc login --name <account> --password-file <file>"
  say "creating the admin account (its recovery codes are printed once below: store them offline)"
  mpc account setup --setup-token "$token" --name admin
fi

# ---- 5. the nodes ----------------------------------------------------------------------------------
listed="$(mpc nodes list --json)"
for n in a b c; do
  N=$(echo "$n" | tr a-z A-Z)
  if grep -q "\"name\":\"node-$n\"" <<<"$listed"; then continue; fi
  mpc nodes add --name "node-$n" --peer-id "${val[NODE_${N}_PEER_ID]}" --address /dns4/node-$n/tcp/7100 >/dev/null
  say "registered node-$n"
done
until [ "$(mpc nodes list --json | grep -o '"online":true' | wc -l)" -ge 3 ]; do
  [ $SECONDS -lt $deadline ] || die "the nodes are not all online after ${wait_s}s: $(mpc nodes list)"
  sleep 2
done
say "ready: three nodes online"
cat >&2 <<EOF

Next (compose v2; with v1 write docker-compose instead of "docker compose"):
  docker compose run --rm mpc keygen --threshold 2 --parties 3
  docker compose run --rm mpc sign --key <key id> --message hello
EOF
