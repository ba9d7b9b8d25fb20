#!/usr/bin/env bash
# The outside judges the tests call: the BIDS project's validators, from PyPI, in a venv under
# .build/ (pinned; created once, reused while the pins are unchanged).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/venv
pins="bids-validator==1.14.7.post0 bidsschematools==2.0.1"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/pins" 2>/dev/null)" = "$pins" ]; then exit 0; fi
python3 -m venv "$venv" || { echo "python-tools: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
"$venv/bin/pip" install --quiet --disable-pip-version-check $pins
echo "$pins" > "$venv/pins"
