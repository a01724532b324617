package route

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, raw         string
		wantName, wantURL string
		masked            string
		err               string // substring of the error; "" = valid
	}{
		{"Direct", "direct", "Direct", "direct", "direct", ""},
		{"", " DIRECT ", "Direct", "direct", "direct", ""},
		{"Office SOCKS", "socks5://alice:s3cret@127.0.0.1:1080", "Office SOCKS", "socks5://alice:s3cret@127.0.0.1:1080", "socks5://alice:***@127.0.0.1:1080", ""},
		{"h", "socks5h://proxy.lan:1080", "h", "socks5h://proxy.lan:1080", "socks5h://proxy.lan:1080", ""},
		{"", "socks5://bob:pw@10.0.0.1", "socks5://bob:***@10.0.0.1", "socks5://bob:pw@10.0.0.1", "socks5://bob:***@10.0.0.1", ""},
		{"Home HTTP", "http://proxy.home:3128", "Home HTTP", "http://proxy.home:3128", "http://proxy.home:3128", ""},
		{"user only", "http://carol@proxy:3128/", "user only", "http://carol@proxy:3128/", "http://carol@proxy:3128", ""},
		{"tls", "https://u:p%40ss@[::1]:8443", "tls", "https://u:p%40ss@[::1]:8443", "https://u:***@[::1]:8443", ""},
		{"x", "", "", "", "", "empty URL"},
		{"x", "127.0.0.1:1080", "", "", "", "no scheme"},
		{"x", "ftp://h:21", "", "", "", `unsupported scheme "ftp"`},
		{"x", "socks4://h:1080", "", "", "", "unsupported scheme"},
		{"x", "http://:3128", "", "", "", "missing host"},
		{"x", "http://h:0", "", "", "", "port"},
		{"x", "http://h:99999", "", "", "", "port"},
		{"x", "http://h:", "", "", "", "empty port"},
		{"x", "http://h:3128/path", "", "", "", "no path"},
		{"x", "http://h:3128?a=b", "", "", "", "no query"},
		{"x", "http://:pw@h:3128", "", "", "", "without a user name"},
		{"auto", "direct", "", "", "", "reserved"},
		{"AUTO", "direct", "", "", "", "reserved"},
		{"x", "http://us er:secretpw@h:3128", "", "", "", "not a valid URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.raw, func(t *testing.T) {
			r, err := Parse(tc.name, tc.raw)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error with %q", tc.raw, r, tc.err)
				}
				if !errors.Is(err, ErrInvalidRoute) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %q, want ErrInvalidRoute with %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "secretpw") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Name != tc.wantName || r.URL != tc.wantURL {
				t.Fatalf("got %+v, want {%s %s}", r, tc.wantName, tc.wantURL)
			}
			if got := r.Masked(); got != tc.masked {
				t.Fatalf("Masked() = %q, want %q", got, tc.masked)
			}
			if _, err := NewUpstream(r, DialOptions{}); err != nil {
				t.Fatalf("NewUpstream rejects what Parse accepted: %v", err)
			}
		})
	}
}

func TestMaskedUnparsable(t *testing.T) {
	r := Route{URL: "http://us er:topsecret@h:3128"}
	if got := r.Masked(); strings.Contains(got, "topsecret") || !strings.HasSuffix(got, "@h:3128") {
		t.Fatalf("Masked() = %q", got)
	}
}

func TestFromEnvironment(t *testing.T) {
	api, _ := url.Parse("https://api.anthropic.com")
	loop, _ := url.Parse("https://127.0.0.1:8443")
	plain, _ := url.Parse("http://127.0.0.1:8080")
	v6, _ := url.Parse("https://[::1]:8443")
	cases := []struct {
		name   string
		env    map[string]string
		target *url.URL
		want   Route
		err    bool
	}{
		{"nothing set", nil, api, Route{Name: "direct", URL: "direct"}, false},
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://u:pw@proxy:3128"}, api, Route{Name: "env (http://u:***@proxy:3128)", URL: "http://u:pw@proxy:3128"}, false},
		{"lowercase", map[string]string{"https_proxy": "http://proxy:3128"}, api, Route{Name: "env (http://proxy:3128)", URL: "http://proxy:3128"}, false},
		{"uppercase wins", map[string]string{"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2"}, api, Route{Name: "env (http://a:1)", URL: "http://a:1"}, false},
		{"no scheme means http", map[string]string{"HTTPS_PROXY": "proxy:3128"}, api, Route{Name: "env (http://proxy:3128)", URL: "http://proxy:3128"}, false},
		{"loopback target is proxied", map[string]string{"HTTPS_PROXY": "http://proxy:3128"}, loop, Route{Name: "env (http://proxy:3128)", URL: "http://proxy:3128"}, false},
		{"ALL_PROXY socks", map[string]string{"ALL_PROXY": "socks5h://127.0.0.1:1080"}, api, Route{Name: "env (socks5h://127.0.0.1:1080)", URL: "socks5h://127.0.0.1:1080"}, false},
		{"all_proxy lowercase", map[string]string{"all_proxy": "socks5://127.0.0.1:1080"}, api, Route{Name: "env (socks5://127.0.0.1:1080)", URL: "socks5://127.0.0.1:1080"}, false},
		{"HTTPS_PROXY before ALL_PROXY", map[string]string{"ALL_PROXY": "socks5://s:1", "HTTPS_PROXY": "http://h:2"}, api, Route{Name: "env (http://h:2)", URL: "http://h:2"}, false},
		{"socks in HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "socks5://s:1080"}, api, Route{Name: "env (socks5://s:1080)", URL: "socks5://s:1080"}, false},
		{"http target uses HTTP_PROXY", map[string]string{"HTTP_PROXY": "http://h:1", "HTTPS_PROXY": "http://s:2"}, plain, Route{Name: "env (http://h:1)", URL: "http://h:1"}, false},
		{"http target ignores HTTPS_PROXY", map[string]string{"HTTPS_PROXY": "http://s:2"}, plain, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY exact", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com, api.anthropic.com"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY parent domain", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "anthropic.com"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY leading dot", map[string]string{"HTTPS_PROXY": "http://p:1", "no_proxy": ".anthropic.com"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY star dot", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*.anthropic.com"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY no suffix trick", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "thropic.com"}, api, Route{Name: "env (http://p:1)", URL: "http://p:1"}, false},
		{"NO_PROXY star", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY host:port match", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.anthropic.com:443"}, api, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY host:port other port", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.anthropic.com:8443"}, api, Route{Name: "env (http://p:1)", URL: "http://p:1"}, false},
		{"NO_PROXY loopback IP", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1"}, loop, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY CIDR", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8,127.0.0.0/8"}, loop, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY CIDR miss", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, loop, Route{Name: "env (http://p:1)", URL: "http://p:1"}, false},
		{"NO_PROXY IPv6", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "[::1]"}, v6, Route{Name: "direct", URL: "direct"}, false},
		{"NO_PROXY localhost does not cover 127.0.0.1", map[string]string{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "localhost"}, loop, Route{Name: "env (http://p:1)", URL: "http://p:1"}, false},
		{"bad proxy URL", map[string]string{"HTTPS_PROXY": "ftp://p:1"}, api, Route{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromEnvironment(func(k string) string { return tc.env[k] }, tc.target)
			if tc.err {
				if err == nil || !errors.Is(err, ErrInvalidRoute) || !strings.Contains(err.Error(), "HTTPS_PROXY") {
					t.Fatalf("got %+v, %v; want an error naming the variable", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if _, err := NewUpstream(got, DialOptions{}); err != nil {
				t.Fatalf("the environment route does not build: %v", err)
			}
		})
	}
}
