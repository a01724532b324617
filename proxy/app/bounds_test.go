package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-gateway/ferry/proxy/testsupport"
	"github.com/ferry-gateway/ferry/storage"
)

// Issue 14: twenty requests with a 2 MB "model" grew ferry.db to 445 MB
// and /_ferry/stats to 42 MB; a relay answering with a huge model grew the
// metrics registry without bound. Models are normalised for records and
// metrics; the forwarded body is untouched.
func TestHugeModelNamesAreBounded(t *testing.T) {
	fake := testsupport.NewFakeAPI(t)
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.APIBase = fake.URL
	srv, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	send := func(model, scenario string) {
		body := `{"model":"` + model + `","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
		req, _ := http.NewRequest("POST", srv.BaseURL()+"/v1/messages", strings.NewReader(body))
		req.Header.Set("X-Api-Key", "sk-ant-any-junk-key")
		req.Header.Set("Content-Type", "application/json")
		if scenario != "" {
			req.Header.Set(testsupport.ScenarioHeader, scenario)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	huge := strings.Repeat("m", 2<<20)
	for i := 0; i < 10; i++ {
		send(huge, "")
	}
	// A hostile relay names a 40 KB model in its answer.
	for i := 0; i < 5; i++ {
		send("claude-sonnet-4-5", "message;model="+strings.Repeat("r", 40<<10))
	}
	// The forwarded body was not changed.
	if reqs := fake.Requests(); len(reqs) == 0 || !strings.Contains(string(reqs[0].Body), huge) {
		t.Fatal("the upstream did not get the client's body unchanged")
	}
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", srv.BaseURL()+path, nil)
		req.Header.Set("X-Ferry-Admin-Token", srv.AdminToken())
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return b
	}
	var page struct{ Records []storage.Record }
	for i := 0; ; i++ {
		page.Records = nil
		_ = json.Unmarshal(get("/_ferry/requests?limit=50"), &page)
		if len(page.Records) >= 15 {
			break
		}
		if i > 300 {
			t.Fatalf("%d records", len(page.Records))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range page.Records {
		// The huge request models were answered with the fake's own model,
		// which the record keeps; the relay's huge one is "invalid".
		if r.Model != storage.InvalidModel && r.Model != testsupport.DefaultModel {
			t.Errorf("record model %.40q (%d bytes), want %q", r.Model, len(r.Model), storage.InvalidModel)
		}
	}
	invalid := 0
	for _, r := range page.Records {
		if r.Model == storage.InvalidModel {
			invalid++
		}
	}
	if invalid != 5 {
		t.Errorf("%d records of the relay's huge model marked invalid, want 5", invalid)
	}
	if n := len(get("/_ferry/stats?window=1h")); n > 64<<10 {
		t.Errorf("/_ferry/stats is %d bytes", n)
	}
	if n := len(get("/_ferry/metrics")); n > 256<<10 {
		t.Errorf("/_ferry/metrics is %d bytes", n)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 4<<20 {
		t.Errorf("ferry.db grew to %d MB", fi.Size()>>20)
	}
}
