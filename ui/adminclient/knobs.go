package adminclient

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/ferry-gateway/ferry/ui/coreapi"
)

// knobJSON is one entry of GET /_ferry/config (proxy/app.ConfigEntry).
type knobJSON struct {
	configJSON
	Default  string   `json:"default"`
	Type     string   `json:"type"`
	Values   []string `json:"values"`
	Applies  string   `json:"applies"`
	Help     string   `json:"help"`
	Allowed  string   `json:"allowed"`
	Override *struct {
		From string `json:"from"`
	} `json:"override"`
}

func (k knobJSON) knob() coreapi.Knob {
	out := coreapi.Knob{Key: k.Key, Value: k.Value, Default: k.Default, Stored: k.Stored != nil, Type: k.Type,
		Values: k.Values, Applies: k.Applies, Help: k.Help, Allowed: k.Allowed}
	if k.Override != nil {
		out.Override = k.Override.From
	}
	return out
}

func (c *Client) Knobs(ctx context.Context, prefixes ...string) ([]coreapi.Knob, error) {
	var entries []knobJSON
	if err := c.do(ctx, http.MethodGet, "/_ferry/config", nil, &entries); err != nil {
		return nil, err
	}
	var out []coreapi.Knob
	for _, e := range entries {
		for _, p := range prefixes {
			if strings.HasPrefix(e.Key, p) {
				out = append(out, e.knob())
				break
			}
		}
	}
	return out, nil
}

func (c *Client) SetKnob(ctx context.Context, key, value string) (coreapi.Knob, error) {
	var e knobJSON
	err := c.do(ctx, http.MethodPut, "/_ferry/config/"+url.PathEscape(key), map[string]string{"value": value}, &e)
	return e.knob(), err
}

func (c *Client) ResetKnob(ctx context.Context, key string) (coreapi.Knob, error) {
	var e knobJSON
	err := c.do(ctx, http.MethodDelete, "/_ferry/config/"+url.PathEscape(key), nil, &e)
	return e.knob(), err
}
