#!/usr/bin/env bash
# Ferry's benchmark, on loopback, in one run: builds the headless ferry, the fake Anthropic API and
# the load program (scripts/bench), then drives the fake directly, through a bare
# httputil.ReverseProxy and through `ferry serve` with the same load, checks 10,000 streams
# byte for byte and measures Ferry's memory with 1,000 open streams. Prints markdown for the README.
#
#   scripts/bench.sh                      # the whole run (about 2-3 minutes on 2 cores)
#   scripts/bench.sh -n 600 -streams 2000 -open 300   # a quick run
#   scripts/bench.sh --storage            # also the storage benchmarks (go test -bench in storage/)
#   scripts/bench.sh -bare-pprof 127.0.0.1:6061       # pprof of the bare proxy child during the run
#
# Every other argument goes to the load program: see `go run ./scripts/bench -h`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
require_go

storage=0
args=()
for a in "$@"; do
	case "$a" in
	--storage) storage=1 ;;
	*) args+=("$a") ;;
	esac
done

out=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
echo "==> building into $out (headless ferry, fakeapi, bench)" >&2
CGO_ENABLED=0 go build -tags headless -o "$out/ferry" .
CGO_ENABLED=0 go build -o "$out/fakeapi" ./proxy/testsupport/cmd/fakeapi
CGO_ENABLED=0 go build -o "$out/bench" ./scripts/bench

echo "==> running (machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"$out/bench" -ferry "$out/ferry" -fakeapi "$out/fakeapi" -work "$out/work" "${args[@]}"
echo "Command: \`scripts/bench.sh${*:+ $*}\` (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%d))"

if [ "$storage" = 1 ]; then
	echo
	echo "### Storage (go test -bench in storage/)"
	echo
	echo '```'
	CGO_ENABLED=0 go test -run '^$' -bench 'RecorderIngest|RecordCall' -benchtime 200000x ./storage/
	CGO_ENABLED=0 go test -run '^$' -bench 'Queries' -benchtime 20x -timeout 30m ./storage/
	echo '```'
fi
