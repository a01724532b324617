package ui

import "testing"

func TestTickLabel(t *testing.T) {
	cases := []struct {
		v, step float64
		want    string
	}{
		{12.5, 12.5, "12.5"}, {37.5, 12.5, "37.5"}, {50, 12.5, "50.0"},
		{0.25, 0.25, "0.25"}, {0.5, 0.25, "0.50"},
		{0.005, 0.005, "0.005"}, {0.015, 0.005, "0.015"},
		{500, 250, "500"}, {20000, 5000, "20k"}, {0, 5000, "0"},
	}
	for _, c := range cases {
		if got := TickLabel(c.v, c.step); got != c.want {
			t.Errorf("TickLabel(%v, %v) = %q, want %q", c.v, c.step, got, c.want)
		}
	}
}
