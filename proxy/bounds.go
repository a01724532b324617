package proxy

import (
	"fmt"
	"net/http"

	"github.com/ferry-gateway/ferry/storage"
)

// MaxTarget bounds a request target (path and query). Anthropic's paths
// are short; a longer target is refused before anything is recorded
// (issue 14: 900 KB paths filled the history). Up to maxHeaderBytes Ferry
// answers its own 414; beyond that Go's server answers 431 itself.
const MaxTarget = 8 << 10

// maxHeaderBytes is the server's limit on the request line and headers.
const maxHeaderBytes = 64 << 10

// maxPathInRecord bounds a path kept in records and log lines.
const maxPathInRecord = 256

// pathCutMarker ends a path cut by TruncatePath.
const pathCutMarker = "…[cut]"

// TruncatePath bounds a path (or any outside string) for records and
// logs: at most 256 bytes, then a marker, never splitting a UTF-8
// sequence.
func TruncatePath(p string) string {
	if len(p) <= maxPathInRecord {
		return p
	}
	cut := maxPathInRecord
	for cut > 0 && p[cut]&0xC0 == 0x80 { // a continuation byte: back up
		cut--
	}
	return p[:cut] + pathCutMarker
}

// targetTooLong is the answer to a request target over MaxTarget.
func targetTooLong(n int) *Error {
	return &Error{Status: http.StatusRequestURITooLong, Type: TypeInvalidRequest, Class: storage.ClassClient4xx,
		Message: fmt.Sprintf("request target is %d bytes; Ferry accepts at most %d", n, MaxTarget)}
}
