package escaperate

// Counts are the four numbers behind the metric for one window.
// Caught counts distinct critical fingerprints raised by a PR check;
// Overridden, Advisory and Missed count escapes of each kind (DESIGN §1).
type Counts struct {
	Caught     int `json:"caught"`
	Overridden int `json:"overridden"`
	Advisory   int `json:"advisory"`
	Missed     int `json:"missed"`
}

// Escaped is every critical risk that reached production: overridden + advisory + missed.
func (c Counts) Escaped() int { return c.Overridden + c.Advisory + c.Missed }

// Denominator is every critical risk there was: caught by a PR check, or missed by it.
func (c Counts) Denominator() int { return c.Caught + c.Missed }

// Rate is the escape rate: escaped / (caught + missed).
func (c Counts) Rate() Ratio { return Ratio{X: c.Escaped(), N: c.Denominator()} }

// OverrideRate is overridden / caught: how often approvers let a caught risk through.
func (c Counts) OverrideRate() Ratio { return Ratio{X: c.Overridden, N: c.Caught} }

// AdvisoryRate is advisory / caught: caught risks merged because the check was not required.
func (c Counts) AdvisoryRate() Ratio { return Ratio{X: c.Advisory, N: c.Caught} }

// DetectionGap is missed / (caught + missed): risks no PR check ever saw.
func (c Counts) DetectionGap() Ratio { return Ratio{X: c.Missed, N: c.Denominator()} }

// Add sums two windows' counts (org totals: fingerprints are distinct per repository).
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Caught:     c.Caught + o.Caught,
		Overridden: c.Overridden + o.Overridden,
		Advisory:   c.Advisory + o.Advisory,
		Missed:     c.Missed + o.Missed,
	}
}

// Trend says how the rate moved against the previous window.
type Trend string

const (
	TrendUp   Trend = "up"
	TrendDown Trend = "down"
	TrendFlat Trend = "flat"
	// TrendNone: one of the two windows has no data, so nothing can be compared.
	TrendNone Trend = "none"
)

// TrendOf compares the current rate with the previous one.
func TrendOf(current, previous Ratio) Trend {
	if !current.Defined() || !previous.Defined() {
		return TrendNone
	}
	switch current.Compare(previous) {
	case 1:
		return TrendUp
	case -1:
		return TrendDown
	}
	return TrendFlat
}
