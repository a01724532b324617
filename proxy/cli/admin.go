package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
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
// when none can be trusted to be there. warn, when not nil, hears why a
// runtime.json was not trusted (then the caller works on the database).
//
// Before the admin token goes anywhere the server proves it wrote
// runtime.json (POST /_ferry/hello, answered with HMAC-SHA256 keyed with
// the admin token): after a crash, anyone may have taken the port, and
// `ferry key set` would otherwise hand them the real API key (issue 14).
func running(ctx context.Context, dataDir string, warn io.Writer) *admin {
	rt, err := app.ReadRuntime(dataDir)
	if err != nil {
		if warn != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(warn, "ferry: %v; working on the database\n", err)
		}
		return nil
	}
	a := &admin{base: rt.BaseURL(), token: rt.AdminToken, client: loopbackClient(),
		close: func(context.Context) error { return nil }}
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.verify(hctx, rt.Listen); err != nil {
		if warn != nil {
			fmt.Fprintf(warn, "ferry: the program on %s did not prove it is the Ferry of %s (%v); not sending it anything secret, working on the database\n", rt.Listen, dataDir, err)
		}
		return nil
	}
	return a
}

// loopbackClient only ever dials loopback addresses, follows no redirect
// and uses no proxy from the environment: the admin token is for this
// host alone.
func loopbackClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, _, err := net.SplitHostPort(addr)
				if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
					return nil, fmt.Errorf("refusing to send Ferry's admin token to %s: not a loopback address", addr)
				}
				return d.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// verify runs the hello challenge: a fresh nonce, answered with
// HelloMAC(admin token, nonce, listen), compared in constant time.
func (a *admin) verify(ctx context.Context, listen string) error {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("hello nonce: %w", err)
	}
	body, _ := json.Marshal(map[string]string{"nonce": hex.EncodeToString(nonce)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/_ferry/hello", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		MAC string `json:"mac"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("hello answered %d, not Ferry's proof", resp.StatusCode)
	}
	got, err := hex.DecodeString(out.MAC)
	if err != nil || !hmac.Equal(got, app.HelloMAC(a.token, nonce, listen)) {
		return errors.New("wrong hello proof")
	}
	return nil
}

// connect finds the running Ferry for dataDir, or opens the database itself.
func connect(ctx context.Context, cfg app.Config, warn io.Writer) (*admin, error) {
	if a := running(ctx, cfg.DataDir, warn); a != nil {
		return a, nil
	}
	// Nothing runs, or runtime.json is stale (Ferry was killed) or not
	// trusted: open the database; if another Ferry really holds it, Open
	// says so.
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
