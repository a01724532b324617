package adminclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/ui/adminclient"
)

// A record's attempts reach the dashboard through /_ferry/requests.
func TestRecentCarriesAttempts(t *testing.T) {
	srv, _ := realCore(t)
	c := adminclient.New(srv.BaseURL(), srv.AdminToken())
	message(t, srv.BaseURL())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		recs, err := c.Recent(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 {
			a := recs[0].Attempts
			if len(a) != 1 || a[0].Route != recs[0].Route || a[0].Class != "" || a[0].Duration <= 0 {
				t.Fatalf("attempts = %+v (route %q)", a, recs[0].Route)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no record")
		}
	}
}
