package proxy_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-gateway/ferry/proxy"
)

type keys struct{}

func (keys) LocalToken() string { return "sk-ferry-local-token" }
func (keys) APIKey() string     { return "sk-ant-real-key" }

// Ferry in front of an upstream: the client sends the local token, the
// upstream sees the real key.
func ExampleNew() {
	upstream := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"key_ok":%v}`, r.URL.RequestURI(), r.Header.Get("X-Api-Key") == "sk-ant-real-key")
	})}
	upLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go upstream.Serve(upLn)
	defer upstream.Close()

	base, _ := url.Parse("http://" + upLn.Addr().String())
	p, err := proxy.New(proxy.Options{
		APIBase: base,
		Keys:    keys{},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- p.Serve(ctx, ln) }()

	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/messages/count_tokens?beta=true",
		strings.NewReader(`{"model":"claude-sonnet-4-5","messages":[]}`))
	req.Header.Set("X-Api-Key", "sk-ferry-local-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))

	stop() // graceful: stop accepting, drain, return
	fmt.Println(<-done)
	// Output:
	// 200 {"path":"/v1/messages/count_tokens?beta=true","key_ok":true}
	// <nil>
}
