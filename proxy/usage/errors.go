package usage

import "errors"

var (
	// ErrBadPriceRow: a price row that cannot be used (no model, a negative
	// or non-finite price, a malformed date, a tier without a threshold).
	ErrBadPriceRow = errors.New("bad price row")
	// ErrBadPriceTable: an imported price table that does not decode.
	ErrBadPriceTable = errors.New("bad price table")

	// errNotString: a usage member that must be a JSON string (or null) is
	// not one, so its object is refused as json.Unmarshal would refuse it.
	errNotString = errors.New("not a JSON string")
)
