package escaperate_test

import (
	"math"
	"testing"

	"github.com/escapegate/escapegate/app/escaperate"
)

// The expected values are worked by hand from the closed form, z = 1.959964, z² = 3.841459:
//
//	center = (p + z²/2n) / (1 + z²/n)
//	half   = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
func TestWilson(t *testing.T) {
	tests := []struct {
		name   string
		x, n   int
		lo, hi float64
	}{
		// No trials: no information, (0, 0); callers render "n/a".
		{"no data", 0, 0, 0, 0},
		// p = 0: denom = 1 + 3.841459/10 = 1.3841459; center = 0.1920730/1.3841459 = 0.138766;
		// half = 1.959964·sqrt(3.841459/400)/1.3841459 = 1.959964·0.0979982/1.3841459 = 0.138766.
		// lo = 0 exactly, hi = 0.277533.
		{"0 of 10", 0, 10, 0, 0.277533},
		// By symmetry of the interval: 1 - 0.277533 = 0.722467, hi = 1 exactly.
		{"10 of 10", 10, 10, 0.722467, 1},
		// p = 0: denom = 4.841459; center = 1.9207295/4.841459 = 0.396725;
		// half = 1.959964·sqrt(3.841459/4)/4.841459 = 1.959964·0.979982/4.841459 = 0.396725. hi = 0.793451.
		{"0 of 1", 0, 1, 0, 0.793451},
		// p = 0.5: denom = 1 + 1.9207295 = 2.9207295; center = (0.5 + 0.9603648)/2.9207295 = 0.5;
		// half = 1.959964·sqrt(0.125 + 3.841459/16)/2.9207295 = 1.959964·0.604228/2.9207295 = 0.405469.
		{"1 of 2", 1, 2, 0.094531, 0.905469},
		// EXAMPLES §4, 3 of 41: p = 0.0731707; z²/n = 0.0936941; denom = 1.0936941;
		// center = (0.0731707 + 0.0468470)/1.0936941 = 0.1097346;
		// half = 1.959964·sqrt(0.0731707·0.9268293/41 + 3.841459/6724)/1.0936941
		//      = 1.959964·sqrt(0.0016541 + 0.0005713)/1.0936941 = 1.959964·0.0471742/1.0936941 = 0.0845368.
		// (2.5%, 19.4%) as EXAMPLES shows.
		{"3 of 41", 3, 41, 0.025198, 0.194274},
		// EXAMPLES §5, 9 of 212: p = 0.0424528; z²/n = 0.0181201; denom = 1.0181201;
		// center = (0.0424528 + 0.0090601)/1.0181201 = 0.0505955;
		// half = 1.959964·sqrt(0.0424528·0.9575472/212 + 3.841459/179776)/1.0181201
		//      = 1.959964·sqrt(0.00019175 + 0.00002137)/1.0181201 = 1.959964·0.0145986/1.0181201 = 0.0281033.
		// (2.2%, 7.9%) as EXAMPLES shows.
		{"9 of 212", 9, 212, 0.022493, 0.078699},
		// Out-of-range x is clamped to n.
		{"x above n", 12, 10, 0.722467, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lo, hi := escaperate.Wilson(tt.x, tt.n)
			if math.Abs(lo-tt.lo) > 5e-6 || math.Abs(hi-tt.hi) > 5e-6 {
				t.Errorf("Wilson(%d, %d) = (%.6f, %.6f), want (%.6f, %.6f)", tt.x, tt.n, lo, hi, tt.lo, tt.hi)
			}
			if lo < 0 || hi > 1 || lo > hi {
				t.Errorf("Wilson(%d, %d) = (%v, %v) is not inside [0, 1]", tt.x, tt.n, lo, hi)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	tests := []struct {
		name                       string
		c                          escaperate.Counts
		escaped                    int
		rate, override, gap, advis escaperate.Ratio
	}{
		{"empty", escaperate.Counts{}, 0, escaperate.Ratio{0, 0}, escaperate.Ratio{0, 0}, escaperate.Ratio{0, 0}, escaperate.Ratio{0, 0}},
		// EXAMPLES §4: 40 caught, 1 of each kind: 3 of 41, override 1 of 40, gap 1 of 41.
		{"examples", escaperate.Counts{Caught: 40, Overridden: 1, Advisory: 1, Missed: 1}, 3,
			escaperate.Ratio{3, 41}, escaperate.Ratio{1, 40}, escaperate.Ratio{1, 41}, escaperate.Ratio{1, 40}},
		// Only missed risks: nothing was caught, the whole rate is the detection gap.
		{"only missed", escaperate.Counts{Missed: 2}, 2,
			escaperate.Ratio{2, 2}, escaperate.Ratio{0, 0}, escaperate.Ratio{2, 2}, escaperate.Ratio{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Escaped(); got != tt.escaped {
				t.Errorf("Escaped = %d, want %d", got, tt.escaped)
			}
			if got := tt.c.Rate(); got != tt.rate {
				t.Errorf("Rate = %v, want %v", got, tt.rate)
			}
			if got := tt.c.OverrideRate(); got != tt.override {
				t.Errorf("OverrideRate = %v, want %v", got, tt.override)
			}
			if got := tt.c.DetectionGap(); got != tt.gap {
				t.Errorf("DetectionGap = %v, want %v", got, tt.gap)
			}
			if got := tt.c.AdvisoryRate(); got != tt.advis {
				t.Errorf("AdvisoryRate = %v, want %v", got, tt.advis)
			}
		})
	}
}

func TestTrendOf(t *testing.T) {
	r := func(x, n int) escaperate.Ratio { return escaperate.Ratio{X: x, N: n} }
	tests := []struct {
		cur, prev escaperate.Ratio
		want      escaperate.Trend
	}{
		{r(3, 41), r(1, 37), escaperate.TrendUp},
		{r(1, 37), r(3, 41), escaperate.TrendDown},
		{r(1, 2), r(2, 4), escaperate.TrendFlat}, // equal fractions compare exactly
		{r(1, 3), r(0, 0), escaperate.TrendNone},
		{r(0, 0), r(1, 3), escaperate.TrendNone},
	}
	for _, tt := range tests {
		if got := escaperate.TrendOf(tt.cur, tt.prev); got != tt.want {
			t.Errorf("TrendOf(%v, %v) = %s, want %s", tt.cur, tt.prev, got, tt.want)
		}
	}
}
