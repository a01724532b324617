package testsupport

import "errors"

var (
	// ErrUnknownScenario: the scenario name (x-fake-scenario header, option or
	// Body argument) is not one this fake knows.
	ErrUnknownScenario = errors.New("unknown fake scenario")
	// ErrBadParam: a scenario parameter ("gap=1.5s") could not be parsed.
	ErrBadParam = errors.New("bad fake scenario parameter")
	// ErrRequestDependent: the scenario's body depends on the request (error
	// bodies carry the request id, count_tokens the body length), so it has
	// no single expected body.
	ErrRequestDependent = errors.New("scenario body depends on the request")
	// ErrBinaryMissing: a proxy binary from Debian is not installed.
	ErrBinaryMissing = errors.New("proxy binary not installed")
)
