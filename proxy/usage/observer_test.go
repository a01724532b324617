package usage_test

import (
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/proxy"
	"github.com/ferry-gateway/ferry/proxy/usage"
)

// The Meter is the proxy's Observer, and a Meters plugs in as its factory
// with a one-line adapter.
var (
	_ proxy.Observer        = (*usage.Meter)(nil)
	_ proxy.ObserverFactory = func(r *http.Request, body []byte, start time.Time) proxy.Observer {
		return (*usage.Meters)(nil).NewObserver(r, body, start)
	}
)
