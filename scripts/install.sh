#!/usr/bin/env bash
# Installs everything a fresh machine needs into .venv: the kit, the six services, the
# web app (editable, so a change shows at once) and the development tools.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip uv
editable=(-e libs/schoolkit)
for service in services/*/; do
  editable+=(-e "${service%/}")
done
editable+=(-e clients/web)
# The console's browser test drives Debian's Chromium (Playwright never downloads one).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: chromium is missing; install Debian's chromium package for the browser tests" >&2
  fi
fi
# The alert rules' unit tests run promtool, from Debian's prometheus package. Its service
# must not start on a test machine: a policy-rc.d that says no, for the install only.
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's prometheus (for promtool) for the alert rules' tests"
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy"
      trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "warning: promtool is missing; install Debian's prometheus package for the alert tests" >&2
  fi
fi
# The web app's accessibility test injects axe-core (pinned) into its pages: from the npm
# registry into var/, which git ignores. Without npm the test says what is missing.
AXE_VERSION=4.10.3
if [ ! -f "var/npm/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
  mkdir -p var/npm
  npm install --silent --no-audit --no-fund --prefix var/npm "axe-core@$AXE_VERSION" >/dev/null \
    || echo "warning: axe-core not installed; the accessibility test will fail" >&2
fi
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" "${editable[@]}" -r requirements-dev.txt
touch "$VENV/.installed"
