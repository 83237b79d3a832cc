#!/usr/bin/env bash
# The compose network, end to end, on a real Docker engine: build the image, start a coordinator
# and three nodes (scripts/compose-init.sh), make a 2-of-3 key and sign a random digest with the
# `mpc` service, verify the signature with the OpenSSL CLI on the host (no code of ours: the DER
# signature and the public key are assembled here from r, s and the compressed key), check that a
# changed digest fails, then tear everything down, volumes included.
#
#   scripts/compose-smoke.sh            # prints a timing line per phase, and a JSON summary last
#
# It runs under its own compose project name and env file, so it never touches a network you made
# with compose-init.sh. MPCD_SMOKE_KEEP=1 leaves the network up for a look (then tear down with the
# command it prints).
set -euo pipefail
cd "$(dirname "$0")/.."

project="mpcd-smoke-$$"
work="$(mktemp -d)"
export COMPOSE_PROJECT_NAME="$project" MPCD_ENV_FILE="$work/env"
# Host port 0: the API gets a free port, so a running devnet on 8080 does not collide.
export MPC_API_PORT=0

if [ -n "${MPCD_COMPOSE:-}" ]; then
  read -r -a compose <<<"$MPCD_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose=(docker-compose)
fi
dc() { "${compose[@]}" --env-file "$MPCD_ENV_FILE" "$@"; }

t0=$SECONDS
declare -a timings=()
phase_start=$SECONDS
phase() { # phase NAME: record the time since the previous phase ended
  local d=$((SECONDS - phase_start))
  timings+=("\"$1\":$d")
  printf '[compose-smoke] %-8s %4d s\n' "$1" "$d" >&2
  phase_start=$SECONDS
}
teardown() {
  local rc=$?
  if [ "${MPCD_SMOKE_KEEP:-0}" = 1 ]; then
    echo "[compose-smoke] left running: ${compose[*]} --env-file $MPCD_ENV_FILE -p $project down -v" >&2
    return
  fi
  if [ $rc -ne 0 ]; then
    local logs="${TMPDIR:-/tmp}/$project.log"
    dc logs --no-color >"$logs" 2>&1 || true
    echo "[compose-smoke] FAILED (exit $rc); every container's log: $logs" >&2
  fi
  dc --profile tools down -v --remove-orphans >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap teardown EXIT

# The local base image on this machine class can carry mode 0700 on / (it is built from a temp
# dir), which locks every non-root user out of the image; the official image does not. Repair that
# one local defect rather than run the daemons as root.
if ! docker run --rm --user 65534 node:24-bookworm-slim true >/dev/null 2>&1; then
  echo "[compose-smoke] node:24-bookworm-slim refuses non-root users (/ is not world-searchable): re-importing it with / at 0755" >&2
  c="$(docker create node:24-bookworm-slim true)"
  docker export "$c" | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' -c 'CMD ["node"]' - node:24-bookworm-slim >/dev/null
  docker rm "$c" >/dev/null
fi

install -m 600 /dev/null "$MPCD_ENV_FILE"
dc build coordinator >&2
phase build

scripts/compose-init.sh --no-build
phase network

mpc() { dc run --rm -T mpc "$@"; }
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p" <<<"$2" | head -1; }

key="$(mpc keygen --threshold 2 --parties 3 --json)"
key_id="$(field keyId "$key")"
pub="$(field publicKey "$key")"
address="$(field address "$key")"
[[ "$pub" =~ ^0[23][0-9a-f]{64}$ ]] || { echo "keygen printed no compressed public key: $key" >&2; exit 1; }
phase keygen

digest="$(openssl rand -hex 32)"
sig="$(mpc sign --key "$key_id" --digest "0x$digest" --signers node-a,node-c --json)"
r="$(field r "$sig")"
s="$(field s "$sig")"
v="$(field v "$sig")"
phase sign

# ---- independent verification: OpenSSL over the raw digest ------------------------------------
bin() { xxd -r -p >"$1"; }
der_int() { # minimal DER INTEGER of a big-endian hex number
  local h="${1#0x}"
  h="$(sed 's/^\(00\)*//' <<<"$h")"
  [ -n "$h" ] || h=00
  [[ "${h:0:1}" =~ [89a-f] ]] && h="00$h"
  printf '02%02x%s' $((${#h} / 2)) "$h"
}
ri="$(der_int "$r")"
si="$(der_int "$s")"
printf '30%02x%s%s' $(((${#ri} + ${#si}) / 2)) "$ri" "$si" | bin "$work/sig.der"
# SubjectPublicKeyInfo: id-ecPublicKey, secp256k1, then the 33-byte compressed point.
printf '3036301006072a8648ce3d020106052b8104000a032200%s' "$pub" | bin "$work/pub.der"
openssl pkey -pubin -inform DER -in "$work/pub.der" -out "$work/pub.pem"
printf '%s' "$digest" | bin "$work/digest.bin"
openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -sigfile "$work/sig.der" -in "$work/digest.bin" >&2
# A check that cannot fail proves nothing: the same signature over another digest must be refused.
printf '%s' "$(openssl rand -hex 32)" | bin "$work/other.bin"
if openssl pkeyutl -verify -pubin -inkey "$work/pub.pem" -sigfile "$work/sig.der" -in "$work/other.bin" >/dev/null 2>&1; then
  echo "OpenSSL accepted the signature over a different digest: the check is broken" >&2
  exit 1
fi
# And the CLI's own offline verify against the Ethereum address (recovery with v).
mpc verify --digest "0x$digest" --signature "$(field signature "$sig")" --address "$address" >&2
phase verify

total=$((SECONDS - t0))
printf '{"compose":"%s","ok":true,"keyId":"%s","address":"%s","r":"%s","s":"%s","v":%s,"seconds":{%s,"total":%d}}\n' \
  "${compose[*]}" "$key_id" "$address" "$r" "$s" "$v" "$(IFS=,; echo "${timings[*]}")" "$total"
