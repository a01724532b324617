package usage

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// IsSpendOrQuotaLimit reports whether an upstream answer says the account
// has run out of money or of subscription quota, rather than that it is
// going too fast: such an answer must never be retried (a retry only burns
// more of the same limit, or is refused the same way until a reset hours
// away) and the client should be shown it at once.
//
// It recognises, from status, response headers and (a bounded prefix of)
// the error body:
//   - 402 billing_error;
//   - a spent workspace or spend limit: 400 invalid_request_error whose
//     message speaks of usage or spend limits, and the 429 some sources
//     describe with error.details.error_code "enforced_spend_limit_reached"
//     (or a message that speaks of those limits);
//   - a spent subscription quota: a 429 whose anthropic-ratelimit-unified-
//     status is "rejected", or whose representative claim's window
//     (e.g. five_hour → 5h) reports utilization 1 or more.
//
// An ordinary rate limit (429 with retry-after and no quota headers, 529
// overloaded) is not a spend or quota limit. header may be nil; body may
// be nil or truncated (an unreadable body only loses the body's evidence).
func IsSpendOrQuotaLimit(status int, header http.Header, body []byte) bool {
	switch status {
	case http.StatusPaymentRequired:
		return true
	case http.StatusBadRequest:
		e := readLimitError(body)
		if e.Type != "invalid_request_error" {
			return false
		}
		msg := strings.ToLower(e.Message)
		// Anthropic's words: "You have reached your specified workspace API
		// usage limits…"; spend limits are reported the same way.
		return strings.Contains(msg, "usage limit") || strings.Contains(msg, "spend limit")
	case http.StatusTooManyRequests:
		if quotaExhausted(header) {
			return true
		}
		e := readLimitError(body)
		msg := strings.ToLower(e.Message)
		return e.Details.ErrorCode == "enforced_spend_limit_reached" ||
			strings.Contains(msg, "usage limit") || strings.Contains(msg, "spend limit")
	}
	return false
}

// maxLimitBody bounds what IsSpendOrQuotaLimit parses of an error body:
// Anthropic's are a few hundred bytes.
const maxLimitBody = 16 << 10

type limitError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Details struct {
		ErrorCode string `json:"error_code"`
	} `json:"details"`
}

func readLimitError(body []byte) limitError {
	var v struct {
		Error limitError `json:"error"`
	}
	if len(body) == 0 || len(body) > maxLimitBody || !bytes.Contains(body, []byte(`"error"`)) {
		return limitError{}
	}
	if json.Unmarshal(body, &v) != nil {
		return limitError{}
	}
	return v.Error
}

// Header names of the subscription quota (Claude Code on a Pro or Max
// plan), as sent on every response to an OAuth token.
const (
	unifiedPrefix = "anthropic-ratelimit-unified-"
	// UnifiedStatusHeader is "allowed", "allowed_warning" or "rejected".
	UnifiedStatusHeader = unifiedPrefix + "status"
	// UnifiedClaimHeader names the window that decided the status, e.g.
	// "five_hour" or "seven_day".
	UnifiedClaimHeader = unifiedPrefix + "representative-claim"
)

// claimWindows maps a representative claim to the header infix of its
// window.
var claimWindows = map[string]string{
	"five_hour":         "5h",
	"seven_day":         "7d",
	"seven_day_opus":    "7d-opus",
	"seven_day_sonnet":  "7d-sonnet",
	"seven_day_oauth":   "7d-oauth",
	"seven_day_overage": "7d-overage",
}

// ClaimWindow returns the window infix ("5h", "7d", "7d-sonnet") of a
// representative claim ("five_hour", "seven_day_sonnet"), or "" when the
// claim is not one Ferry knows.
func ClaimWindow(claim string) string {
	return claimWindows[strings.ToLower(strings.TrimSpace(claim))]
}

// quotaExhausted reports whether the unified quota headers say the
// subscription's quota is spent.
func quotaExhausted(h http.Header) bool {
	if len(h) == 0 {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(h.Get(UnifiedStatusHeader)), "rejected") {
		return true
	}
	w := ClaimWindow(h.Get(UnifiedClaimHeader))
	if w == "" {
		return false
	}
	u, err := strconv.ParseFloat(strings.TrimSpace(h.Get(unifiedPrefix+w+"-utilization")), 64)
	return err == nil && u >= 1
}
