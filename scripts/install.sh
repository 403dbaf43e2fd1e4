#!/usr/bin/env bash
# Installs everything a fresh machine needs into .venv: the kit, the six services
# (editable, so a change shows at once) and the development tools.
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
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" "${editable[@]}" -r requirements-dev.txt
touch "$VENV/.installed"
