package sse_test

import (
	"fmt"

	"github.com/ferry-gateway/ferry/proxy/sse"
)

func ExampleScanner() {
	var s sse.Scanner
	// Two network reads that cut a frame (and a UTF-8 character) in half.
	reads := []string{"event: content_block_delta\ndata: {\"text\":\"\xe4", "\xbd\xa0\"}\n\n:ping\n\n"}
	for _, r := range reads {
		// The caller forwards r to the client itself; the scanner only looks.
		s.Feed([]byte(r), func(f sse.Frame) {
			fmt.Printf("%s %s\n", f.Event, f.Data) // f.Data is only valid here: copy to keep
		})
	}
	// Output:
	// content_block_delta {"text":"你"}
}
