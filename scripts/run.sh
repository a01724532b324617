#!/usr/bin/env bash
# Builds Ferry and runs it: `scripts/run.sh` starts the tray app; `scripts/run.sh serve [flags]`
# runs the proxy headless. On a machine without a desktop (no DISPLAY or WAYLAND_DISPLAY) it builds
# the headless binary and runs `ferry serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_go
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "${1:-}" = serve ]; then
	echo "==> go build -tags headless -o ferry ."
	CGO_ENABLED=0 go build -tags headless -o ferry .
	[ "${1:-}" = serve ] && shift
	exec ./ferry serve "$@"
fi
apt_install "${GUI_BUILD_PACKAGES[@]}" fonts-noto-cjk
echo "==> go build -o ferry . (the first build compiles GLFW: a few minutes)"
go build -o ferry .
exec ./ferry "$@"
