// Package escaperate computes the Critical Risk Escape Rate of DESIGN §2 from the
// store: counts per window, the Wilson score interval, trends, the exceptions
// still open, and the data of the monthly organisation summary. It renders
// nothing; app/report turns its results into Markdown, text and JSON.
package escaperate

import "math"

// Z95 is the standard normal quantile for a two-sided 95% interval.
const Z95 = 1.959964

// Wilson returns the 95% Wilson score interval of x successes in n trials.
// The Wilson interval stays inside [0, 1] and is sensible for the small counts
// that are normal here (0 of 3, 2 of 5), where the normal approximation is not.
// With no trials (n == 0) there is no information: it returns (0, 0) and
// callers must check Ratio.Defined and render "n/a" (no data yet).
// Out-of-range input (x < 0, x > n) is clamped to [0, n].
func Wilson(x, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 0
	}
	x = max(0, min(x, n))
	nf := float64(n)
	p := float64(x) / nf
	z2 := Z95 * Z95
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := Z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	lo, hi = center-half, center+half
	// The closed form gives exactly 0 (x == 0) and 1 (x == n) in exact arithmetic;
	// pin them so rounding never shows "-0.0%" or "100.0000001%".
	if x == 0 {
		lo = 0
	}
	if x == n {
		hi = 1
	}
	return max(0, lo), min(1, hi)
}

// Ratio is "x of n": the only way a rate is shown, because small counts are the norm.
type Ratio struct {
	X int `json:"x"`
	N int `json:"n"`
}

// Defined reports whether there is any data (n > 0).
func (r Ratio) Defined() bool { return r.N > 0 }

// Value is x/n, or 0 when there is no data.
func (r Ratio) Value() float64 {
	if r.N <= 0 {
		return 0
	}
	return float64(r.X) / float64(r.N)
}

// Interval is the 95% Wilson score interval of the ratio.
func (r Ratio) Interval() (lo, hi float64) { return Wilson(r.X, r.N) }

// Compare orders two ratios by value without floating point: -1, 0 or 1.
// A ratio without data compares equal to everything (no trend can be told).
func (r Ratio) Compare(o Ratio) int {
	if !r.Defined() || !o.Defined() {
		return 0
	}
	a, b := r.X*o.N, o.X*r.N
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
