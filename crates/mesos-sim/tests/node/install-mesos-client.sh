#!/usr/bin/env bash
# Installs @dcos/mesos-client 1.0.0 (a third-party Mesos operator API
# client from npm, written for the DC/OS UI) into
# crates/mesos-sim/tests/node/node_modules for
# crates/mesos-sim/tests/mesos_client_fidelity.rs, with the machine's
# Node.js and npm. Idempotent: does nothing when it is already there.
#
# package-lock.json pins every package (version and integrity hash) and
# `npm ci` installs exactly those. It was written with
# --omit-lockfile-registry-resolved, so it names no download address.
set -euo pipefail
cd "$(dirname "$0")"

CHECK='if (require("@dcos/mesos-client/package.json").version !== "1.0.0") process.exit(1)'

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-mesos-client: Node.js and npm are needed (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi

if node -e "$CHECK" 2>/dev/null; then
  echo "install-mesos-client: @dcos/mesos-client 1.0.0 already installed"
  exit 0
fi

npm ci --no-audit --no-fund
node -e "$CHECK"
echo "install-mesos-client: @dcos/mesos-client 1.0.0 installed in $(pwd)/node_modules"
