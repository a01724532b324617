#!/usr/bin/env bash
# Packages the desktop app for Linux with Fyne's tool: out/Ferry.tar.xz, an
# archive to unpack at / (usr/local/bin/ferry, its .desktop file and icon),
# or install with `make -C` on the Makefile inside it.
#   scripts/package.sh            builds ./ferry first
#   FERRY_BIN=path scripts/package.sh   packages an existing desktop build
# macOS and Windows: see README, "Packaging".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_go
FYNE_TOOLS_VERSION=v1.7.4
if ! [ -x "$(go env GOPATH)/bin/fyne" ]; then
	echo "==> go install fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"
	CGO_ENABLED=0 go install "fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"
fi
fyne="$(go env GOPATH)/bin/fyne"
bin="${FERRY_BIN:-}"
if [ -z "$bin" ]; then
	apt_install "${GUI_BUILD_PACKAGES[@]}"
	go build -o ferry .
	bin=ferry
fi
mkdir -p out
work=$(mktemp -d)
cp FyneApp.toml "$work/FyneApp.toml.orig"
trap 'cp "$work/FyneApp.toml.orig" FyneApp.toml; rm -rf "$work"' EXIT
cp "$bin" "$work/ferry" # the installed command is named after the file
# Run at the root: fyne reads FyneApp.toml (id, name, version, icon) there,
# and bumps its build number, which the trap puts back.
"$fyne" package --os linux --exe "$work/ferry" --name Ferry --release
mv Ferry.tar.xz out/
echo "out/Ferry.tar.xz:"
# Listed once into a variable: `tar | grep -q` under pipefail fails at
# random when grep stops at the first match and tar dies of SIGPIPE (CI saw
# "no .desktop file" above a listing that had it).
listing=$(tar -tJf out/Ferry.tar.xz)
echo "$listing"
grep -q '\.desktop$' <<<"$listing" || { echo "no .desktop file in the package" >&2; exit 1; }
