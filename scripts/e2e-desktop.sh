#!/usr/bin/env bash
# The desktop end-to-end test: the real ferry binary ($FERRY_BIN, a cgo
# build) under Xvfb and a private D-Bus session, its tray driven over D-Bus.
# Screenshots land in out/screenshots/. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FERRY_BIN:?FERRY_BIN must name the desktop ferry binary}"
export FERRY_SCREENSHOTS="$PWD/out/screenshots"
mkdir -p "$FERRY_SCREENSHOTS"

# A free display number.
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1440x900x24 -nolisten tcp >/tmp/ferry-xvfb.log 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
export DISPLAY=":$display"
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR

CGO_ENABLED=0 go test -c -tags e2e -o /tmp/ferry-e2e.test ./ui/e2e/
cd ui/e2e
dbus-run-session -- /tmp/ferry-e2e.test -test.v -test.count=1 -test.timeout 10m
