#!/usr/bin/env bash
# Renders an fmridyn HTML report to PNG with headless Chromium, for a person to look at.
#
# Usage: scripts/screenshot-report.sh REPORT.html [OUT.png] [WIDTH] [HEIGHT]
# Needs Debian's chromium (apt-get install chromium); the report itself needs no network.
set -euo pipefail
report=${1:?usage: $0 REPORT.html [OUT.png] [WIDTH] [HEIGHT]}
out=${2:-${report%.html}.png}
width=${3:-1280}
height=${4:-6000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
  echo "screenshot-report: no chromium found; install it with: apt-get install chromium" >&2
  exit 1
fi
[ -f "$report" ] || { echo "screenshot-report: $report does not exist" >&2; exit 1; }
absolute=$(realpath "$report")
tmp="$out.tmp.png"
# --no-sandbox: Chromium refuses to run as root otherwise (containers, CI).
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="$width,$height" --screenshot="$tmp" "file://$absolute" >/dev/null 2>&1
mv "$tmp" "$out"
echo "wrote $out (${width}x${height})"
