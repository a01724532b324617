// Command fakeapi serves Ferry's fake Anthropic API (proxy/testsupport) on a
// given address, for the benchmark script and SDK tests that run outside
// `go test`.
//
//	fakeapi -listen 127.0.0.1:8787
//	fakeapi -listen 127.0.0.1:8443 -tls -cert-dir /tmp/fake-certs   # HTTPS + HTTP/2, CA in /tmp/fake-certs/ca.pem
//	fakeapi -body 'large;frames=100'                                 # print a scenario's exact body and exit
//
// Pick a scenario per request with the header x-fake-scenario (see the
// testsupport package). On start it prints one line: "fakeapi URL [CA-PATH]".
// It stops on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sig))
}

// run serves until stop receives (or is closed) and returns the exit code.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	flag := flag.NewFlagSet("fakeapi", flag.ContinueOnError)
	flag.SetOutput(stderr)
	listen := flag.String("listen", "127.0.0.1:8787", "address to listen on")
	useTLS := flag.Bool("tls", false, "serve HTTPS (HTTP/2 and HTTP/1.1) with a certificate from -cert-dir")
	certDir := flag.String("cert-dir", "", "directory holding ca.pem, cert.pem, key.pem (created when missing; default: <user cache dir>/ferry-fakeapi)")
	scenario := flag.String("scenario", "", "scenario for POST /v1/messages without an x-fake-scenario header (default: stream or message by the request's \"stream\" field)")
	gz := flag.String("gzip", "never", "when to gzip responses: never, accepted (when the client accepts it), always")
	body := flag.String("body", "", "print the exact body of this scenario (e.g. 'large;frames=100') to stdout and exit")
	if err := flag.Parse(args); err != nil {
		return 2
	}

	if *body != "" {
		b, err := testsupport.Body(*body)
		if err != nil {
			fmt.Fprintln(stderr, "fakeapi:", err)
			return 2
		}
		stdout.Write(b)
		return 0
	}
	// Keep memory flat over a long benchmark.
	opts := []testsupport.Option{testsupport.WithRecordLimit(1000)}
	switch *gz {
	case "never":
		opts = append(opts, testsupport.WithGzip(testsupport.GzipNever))
	case "accepted":
		opts = append(opts, testsupport.WithGzip(testsupport.GzipAccepted))
	case "always":
		opts = append(opts, testsupport.WithGzip(testsupport.GzipAlways))
	default:
		fmt.Fprintf(stderr, "fakeapi: -gzip %q: want never, accepted or always\n", *gz)
		return 2
	}
	if *scenario != "" {
		opts = append(opts, testsupport.WithScenario(*scenario))
	}
	dir := ""
	if *useTLS {
		dir = *certDir
		if dir == "" {
			cache, err := os.UserCacheDir()
			if err != nil {
				fmt.Fprintln(stderr, "fakeapi: no -cert-dir and no user cache dir:", err)
				return 2
			}
			dir = filepath.Join(cache, "ferry-fakeapi")
		}
	}
	f, err := testsupport.StartFakeAPI(*listen, dir, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "fakeapi:", err)
		return 1
	}
	if f.CAPath != "" {
		fmt.Fprintln(stdout, "fakeapi", f.URL, f.CAPath)
	} else {
		fmt.Fprintln(stdout, "fakeapi", f.URL)
	}
	<-stop
	f.Close()
	return 0
}
