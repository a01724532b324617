#!/usr/bin/env bash
# The desktop app's figures (start to tray, idle CPU and RSS, added latency
# at 100 requests/s with the dashboard open vs headless), under Xvfb and a
# private D-Bus session, printed as a markdown table.
#   scripts/bench-desktop.sh      (builds both binaries first)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_go
apt_install xvfb dbus imagemagick xdotool "${GUI_BUILD_PACKAGES[@]}"
go build -o /tmp/ferry-desktop .
CGO_ENABLED=0 go build -tags headless -o /tmp/ferry-headless .
CGO_ENABLED=0 go test -c -tags e2e -o /tmp/ferry-e2e.test ./ui/e2e/
display=99
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 1440x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done
export DISPLAY=":$display" XDG_RUNTIME_DIR
XDG_RUNTIME_DIR=$(mktemp -d)
cd ui/e2e
FERRY_BIN=/tmp/ferry-desktop FERRY_HEADLESS_BIN=/tmp/ferry-headless FERRY_DESKTOP_FIGURES=1 \
	dbus-run-session -- /tmp/ferry-e2e.test -test.run 'TestDesktopFigures$' -test.count=1 -test.timeout 10m
