#!/usr/bin/env bash
# Installs what OptimaGym needs that a fresh Debian machine with Swift may lack:
# GSL's and SQLite's development packages (found through pkg-config). Safe to run again.
set -euo pipefail

need=()
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if ! pkg-config --exists gsl 2>/dev/null; then need+=(libgsl-dev); fi
# SQLite's development package: the store (reports/optima.sqlite) goes through GRDB, which links it.
if ! pkg-config --exists sqlite3 2>/dev/null; then need+=(libsqlite3-dev); fi
# OpenBLAS: the networks' matrix products (loaded at run time; without it a plain Swift loop is used).
if ! ldconfig -p 2>/dev/null | grep -q "libopenblas.so.0"; then need+=(libopenblas0); fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} with apt-get" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "setup: GSL $(pkg-config --modversion gsl) found" >&2
