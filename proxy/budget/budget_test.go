package budget

import "testing"

// Amounts as people read them: cents, and four digits under a cent (a
// tiny test budget, a rate of $0.004 a minute) instead of "$0.00".
func TestFormatAmounts(t *testing.T) {
	for _, c := range []struct {
		n    Name
		v    float64
		want string
	}{
		{Daily, 12.345, "$12.35"}, {Daily, 0, "$0.00"}, {Monthly, 0.5, "$0.50"},
		{Daily, 0.0001, "$0.0001"}, {Rate, 0.004, "$0.0040/min"}, {Rate, 0.25, "$0.25/min"},
		{Session, 0.0072105, "$0.0072"}, {RequestsDaily, 1200, "1200 requests"},
	} {
		if got := c.n.Format(c.v); got != c.want {
			t.Errorf("%s.Format(%v) = %q, want %q", c.n, c.v, got, c.want)
		}
	}
}
