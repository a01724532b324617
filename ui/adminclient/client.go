// Package adminclient is the window process's view of Ferry's core: the
// ui.Core interface over the core's admin API (the same API the CLI and
// scripts use) and its event stream, GET /_ferry/events. The window
// process holds nothing of the core itself; everything it shows comes
// from here and every change it makes goes through here.
//
// It knows nothing of Fyne: its tests run against a fake core with
// CGO_ENABLED=0.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// quickTimeout bounds the calls behind ui.Core's quick getters (status,
// routes, token): loopback calls that answer in well under a millisecond
// unless the core is stuck, and then the window must not freeze for long.
const quickTimeout = 3 * time.Second

// maxResponse bounds what the client reads of one answer (the largest is
// a page of records or the price table).
const maxResponse = 16 << 20

// Client calls one running core's admin API.
type Client struct {
	base  string // "http://127.0.0.1:7856"
	token string // the admin token, sent with every call
	hc    *http.Client
	lang  string // Accept-Language, see SetLanguage
}

// New returns a client of the core at base (its admin address) with the
// admin token.
func New(base, token string) *Client {
	return &Client{
		base:  strings.TrimSuffix(base, "/"),
		token: token,
		// Never through a proxy from the environment: the core is on
		// loopback and the token must not travel anywhere else.
		hc: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}},
	}
}

// Error is an error answer of the core, in Anthropic's error shape.
type Error struct {
	Status  int
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// do calls method path with in as the JSON body (nil: none, a string or
// []byte: sent as is) and decodes the answer into out (nil: discarded).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	case []byte:
		body = bytes.NewReader(v)
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("X-Ferry-Admin-Token", c.token)
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("Ferry's core does not answer (%s %s): %w", method, path, err)
	}
	defer resp.Body.Close()
	r := io.LimitReader(resp.Body, maxResponse)
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		b, _ := io.ReadAll(r)
		if json.Unmarshal(b, &e) != nil || e.Error.Message == "" {
			e.Error.Message = fmt.Sprintf("%s %s: %s", method, path, resp.Status)
		}
		return &Error{Status: resp.StatusCode, Type: e.Error.Type, Message: e.Error.Message}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, r)
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("%s %s: read: %w", method, path, err)
		}
		return nil
	}
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// quick is a context for the quick getters.
func quick() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), quickTimeout)
}

func (c *Client) quickDo(method, path string, in, out any) error {
	ctx, cancel := quick()
	defer cancel()
	return c.do(ctx, method, path, in, out)
}

// timeRange is from= and to= for the calls that take a window.
func timeRange(from, to time.Time) string {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	return q.Encode()
}

// IsUnauthorized reports whether err is the core refusing the token.
func IsUnauthorized(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusUnauthorized
}
