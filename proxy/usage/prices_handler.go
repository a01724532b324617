package usage

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ferry-gateway/ferry/proxy/reply"
)

// maxPricesBody bounds a PUT or POST to /_ferry/prices.
const maxPricesBody = 1 << 20

// PricesHandler serves /_ferry/prices: GET exports the table (the JSON
// Import reads), PUT sets one row (a PriceRow), POST imports a table,
// DELETE resets to the defaults. Each change answers with the new table.
func (h *Handlers) PricesHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPut:
			var row PriceRow
			body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPricesBody))
			if rerr != nil {
				h.fail(w, r, fmt.Errorf("%w: read body: %w", errBadQuery, rerr))
				return
			}
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&row); derr != nil {
				h.fail(w, r, fmt.Errorf("%w: price row: %w", errBadQuery, derr))
				return
			}
			err = h.prices.Set(row)
		case http.MethodPost:
			body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPricesBody))
			if rerr != nil {
				h.fail(w, r, fmt.Errorf("%w: read body: %w", errBadQuery, rerr))
				return
			}
			err = h.prices.Import(body)
		case http.MethodDelete:
			err = h.prices.Reset()
		default:
			w.Header().Set("Allow", "GET, PUT, POST, DELETE")
			reply.Error(w, http.StatusMethodNotAllowed, "invalid_request_error", r.Method+" is not allowed on "+r.URL.Path)
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		reply.JSON(w, h.prices.Table())
	})
}
