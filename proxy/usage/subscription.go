package usage

import (
	"net/http"
	"strings"
)

// SubscriptionRow ends the PriceRow of a request billed to a subscription.
const SubscriptionRow = "(subscription: billed $0)"

// oauthPrefix starts the OAuth access tokens of Claude Code logged in with
// a Pro or Max plan.
const oauthPrefix = "sk-ant-oat"

// IsSubscription reports whether a request is made with a subscription's
// OAuth token (Authorization: Bearer sk-ant-oat…), which pays no tokens:
// its billed cost is $0 and storage.Record.APIEquivUSD keeps what it would
// cost with an API key.
func IsSubscription(h http.Header) bool {
	a := h.Get("Authorization")
	if len(a) < 7 || !strings.EqualFold(a[:7], "bearer ") {
		return false
	}
	return strings.HasPrefix(strings.TrimSpace(a[7:]), oauthPrefix)
}
