package proxy

import (
	"net/http"
	"strings"
)

// ferryHeaderPrefix starts every header that is Ferry's own business:
// the admin token, the local token, the fake API's scenario, and whatever
// later stages define.
const ferryHeaderPrefix = "X-Ferry-"

// RemoveFerryHeaders deletes every x-ferry-* header from h, the headers
// of a request about to go upstream (issue 8, decision 6: Ferry's own
// headers never leave; before it, only x-ferry-token was removed, and an
// x-ferry-admin-token sent on an API path reached the upstream).
//
// The pipeline calls it where hop-by-hop headers are removed from the
// outgoing request, after the stages that read Ferry's headers:
//
//	removeHopByHop(out)
//	RemoveFerryHeaders(out)
func RemoveFerryHeaders(h http.Header) {
	for k := range h {
		// Keys of a header built by net/http are canonical; a hook may
		// have set one that is not, so compare without case.
		if len(k) >= len(ferryHeaderPrefix) && strings.EqualFold(k[:len(ferryHeaderPrefix)], ferryHeaderPrefix) {
			delete(h, k)
		}
	}
}
