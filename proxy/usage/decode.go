package usage

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
)

// markedReader reads a buffered compressed body and says how far it got.
// It implements io.ByteReader, so gzip and flate read it directly instead
// of through a bufio.Reader that would read ahead and blur off.
type markedReader struct {
	b   []byte
	off int
}

func (r *markedReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *markedReader) ReadByte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// newDecoder returns a reader of the decoded body for a Content-Encoding.
// "deflate" is zlib-wrapped per RFC 9110, but some servers send raw
// deflate, so a missing zlib header falls back to raw.
func newDecoder(coding string, src *markedReader) (io.Reader, error) {
	switch coding {
	case "gzip":
		r, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		return r, nil
	case "deflate":
		if r, err := zlib.NewReader(src); err == nil {
			return r, nil
		}
		src.off = 0
		return flate.NewReader(src), nil
	}
	return nil, fmt.Errorf("content-encoding %q not decoded", coding)
}
