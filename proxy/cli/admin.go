package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ferry-gateway/ferry/proxy/app"
)

// admin talks to Ferry's admin API, over loopback to a running instance or
// in-process to handlers opened over the database.
type admin struct {
	base   string
	token  string
	lang   string // sent as Accept-Language when set: the answer's help and errors in it
	client *http.Client
	close  func(context.Context) error
}

// handlerTransport serves requests with an in-process handler: the same
// admin endpoints as a running Ferry, without a socket.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// running returns the admin API of the Ferry running on dataDir, or nil
// when runtime.json is missing or nothing answers at its address.
func running(ctx context.Context, dataDir string) *admin {
	rt, err := app.ReadRuntime(dataDir)
	if err != nil {
		return nil
	}
	a := &admin{base: rt.BaseURL(), token: rt.AdminToken, client: &http.Client{Timeout: 30 * time.Second},
		close: func(context.Context) error { return nil }}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if a.do(hctx, http.MethodGet, "/_ferry/health", nil, nil) != nil {
		return nil
	}
	return a
}

// connect finds the running Ferry for dataDir, or opens the database itself.
func connect(ctx context.Context, cfg app.Config) (*admin, error) {
	if a := running(ctx, cfg.DataDir); a != nil {
		return a, nil
	}
	// Nothing runs, or runtime.json is stale (Ferry was killed): open the
	// database; if another Ferry really holds it, Open says so.
	srv, err := app.Open(cfg)
	if err != nil {
		return nil, err
	}
	return &admin{
		base:   "http://127.0.0.1",
		token:  srv.AdminToken(),
		client: &http.Client{Transport: handlerTransport{srv.Handler()}},
		close:  srv.Stop,
	}, nil
}

// apiError is an error answer from the admin API, in Anthropic's shape.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("admin API answered %d", e.Status)
}

// do sends a request with an optional JSON (or raw []byte) body and decodes
// a JSON answer into out (a *[]byte receives the raw body).
func (a *admin) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd, ctype = strings.NewReader(b), "text/plain"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("x-ferry-admin-token", a.token)
	if a.lang != "" {
		req.Header.Set("Accept-Language", a.lang)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Type, Message string } `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		return &apiError{Status: resp.StatusCode, Type: e.Error.Type, Message: e.Error.Message}
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*o = raw
		return nil
	default:
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
		return nil
	}
}

var errUsage = errors.New("usage")
