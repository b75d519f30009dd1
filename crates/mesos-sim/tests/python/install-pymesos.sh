#!/usr/bin/env bash
# Installs pymesos 0.3.15 (a third-party Mesos scheduler client from PyPI)
# into <repo>/.venv for crates/mesos-sim/tests/pymesos_fidelity.rs, using
# the machine's python3 (3.11). Idempotent: does nothing when the virtualenv
# already imports it.
#
# pymesos depends on http-parser 0.9.0, whose C extension does not build on
# Python 3.11; its pure-Python parser (which pymesos falls back to) works.
# So the http-parser sdist is unpacked in a temporary directory, its
# setup.py is told not to build the extension, and pymesos is installed
# with --no-deps next to its two other runtime dependencies (six, addict;
# kazoo is only needed for zk:// master URLs).
set -euo pipefail
cd "$(dirname "$0")/../../../.."

VENV=.venv
PYTHON=${PYTHON:-python3}
CHECK='import pymesos, six, addict; from http_parser.http import HttpParser; assert pymesos.__VERSION__ == "0.3.15", pymesos.__VERSION__'

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  echo "install-pymesos: pymesos 0.3.15 already installed in $VENV"
  exit 0
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# Debian's python3 lacks ensurepip unless python3-venv is installed; then the
# virtualenv is made without pip and the machine's pip installs into it.
rm -rf "$VENV"
if "$PYTHON" -m venv "$VENV" 2>/dev/null && [ -x "$VENV/bin/pip" ]; then
  pip() { "$VENV/bin/python" -m pip "$@"; }
else
  rm -rf "$VENV"
  "$PYTHON" -m venv --without-pip "$VENV"
  pip() { "$PYTHON" -m pip --python "$VENV/bin/python" "$@"; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pip download --no-deps --no-binary :all: --dest "$work" http-parser==0.9.0
tar -xzf "$work"/http-parser-0.9.0.tar.gz -C "$work"
setup="$work/http-parser-0.9.0/setup.py"
sed -i 's/^    run_setup(not IS_PYPY)$/    run_setup(False)/' "$setup"
if ! grep -q '^    run_setup(False)$' "$setup"; then
  echo "install-pymesos: could not disable the C extension in http-parser's setup.py" >&2
  exit 1
fi
pip install "$work/http-parser-0.9.0"
pip install --no-deps pymesos==0.3.15 six==1.17.0 addict==2.4.0

"$VENV/bin/python" -c "$CHECK"
echo "install-pymesos: pymesos 0.3.15 installed in $VENV"
