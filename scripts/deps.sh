#!/usr/bin/env bash
# Shared by run.sh and test.sh: installs what Ferry needs on Debian/Ubuntu.
# Sourced, not run. Every function is idempotent and quiet when all is there.

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PKG...: installs the Debian packages that are missing.
apt_install() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "==> apt-get install ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# require_go: Ferry needs Go 1.26 or newer; Debian's golang-go is older.
require_go() {
	for d in /usr/local/go/bin "$HOME/go/bin" "$HOME/sdk/go1.26/bin"; do
		[ -x "$d/go" ] && case ":$PATH:" in *":$d:"*) ;; *) PATH="$d:$PATH" ;; esac
	done
	export PATH
	if ! command -v go >/dev/null 2>&1; then
		echo "Go 1.26 or newer is required and was not found." >&2
		echo "Debian's golang-go is too old: install from https://go.dev/dl/ (tar -C /usr/local -xzf go1.26.*.linux-amd64.tar.gz)." >&2
		exit 1
	fi
	local v
	v=$(go env GOVERSION | sed 's/^go//')
	local major=${v%%.*} rest=${v#*.}
	local minor=${rest%%.*}
	if [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 26 ]; }; then
		echo "Go $v found, Ferry needs Go 1.26 or newer (Debian's golang-go is too old): see https://go.dev/dl/." >&2
		exit 1
	fi
}

# The C headers the desktop build (Fyne: GLFW with X11 and Wayland) links against.
GUI_BUILD_PACKAGES=(gcc pkg-config libgl1-mesa-dev libxkbcommon-dev libxcursor-dev libxrandr-dev
	libxinerama-dev libxi-dev libxxf86vm-dev libwayland-dev)
