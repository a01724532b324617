package adminclient

import (
	"context"
	"net/http"
	"time"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// routeOptionsJSON is the part of GET /_ferry/routes the Network page
// reads (proxy/app.RouteView).
type routeOptionsJSON struct {
	Routes []struct {
		Name     string `json:"name"`
		Via      bool   `json:"temporary"`
		Breaker  string `json:"breaker"`
		Region   string `json:"region"`
		HTTP     string `json:"http"`
		KeyShare string `json:"tls_key_share"`
		Learnt   struct {
			HTTP1        bool      `json:"http1"`
			ClassicSince time.Time `json:"classic_since"`
		} `json:"learnt"`
		Warm bool `json:"warm"`
	} `json:"routes"`
}

func (c *Client) RouteOptions(ctx context.Context) ([]coreapi.RouteOptions, error) {
	var in routeOptionsJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/routes", nil, &in); err != nil {
		return nil, err
	}
	out := make([]coreapi.RouteOptions, 0, len(in.Routes))
	for _, r := range in.Routes {
		out = append(out, coreapi.RouteOptions{
			Name: r.Name, Via: r.Via, Breaker: or(r.Breaker, coreapi.BreakerClosed), Region: r.Region,
			HTTP: or(r.HTTP, "auto"), KeyShare: or(r.KeyShare, "auto"),
			LearntHTTP1: r.Learnt.HTTP1, LearntClassicSince: r.Learnt.ClassicSince, Warm: r.Warm,
		})
	}
	return out, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (c *Client) SetRouteOption(ctx context.Context, route, key, value string) error {
	return c.do(ctx, http.MethodPost, "/_ferry/routes/set", map[string]string{"name": route, "key": key, "value": value}, nil)
}

func (c *Client) ForgetRoute(ctx context.Context, route string) error {
	return c.do(ctx, http.MethodPost, "/_ferry/routes/forget", map[string]string{"name": route}, nil)
}
