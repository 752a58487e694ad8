package verdict

import (
	"reflect"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

func finding(fp string, sev checks.Severity) checks.Finding {
	return checks.Finding{Rule: "r-" + fp, Category: checks.CategorySecret, Severity: sev, Path: "a.env", Line: 1, Fingerprint: fp}
}

func existing(f checks.Finding) checks.Finding { f.Existing = true; return f }

func suppressed(f checks.Finding, onBase bool) checks.Finding {
	f.Suppressed, f.SuppressedOnBase = true, onBase
	return f
}

var (
	crit = finding("crit", checks.SeverityCritical)
	high = finding("high", checks.SeverityHigh)
	med  = finding("med", checks.SeverityMedium)
	low  = finding("low", checks.SeverityLow)
)

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		f    checks.Finding
		p    Policy
		want State
	}{
		{"critical added fails", crit, Policy{FailOn: "high"}, Failing},
		{"below fail_on", low, Policy{FailOn: "high"}, Below},
		{"fail_on low catches low", low, Policy{FailOn: "low"}, Failing},
		{"existing never fails", existing(crit), Policy{FailOn: "low"}, Existing},
		{"existing wins over a suppression", existing(suppressed(crit, false)), Policy{}, Existing},
		{"a suppression the change adds does not silence a critical", suppressed(crit, false), Policy{FailOn: "high"}, Failing},
		{"a suppression on the base silences a critical", suppressed(crit, true), Policy{FailOn: "high"}, Suppressed},
		{"policy allows inline suppressions", suppressed(crit, false), Policy{FailOn: "high", AllowInline: true}, Suppressed},
		{"a suppression silences what is below critical", suppressed(high, false), Policy{FailOn: "high"}, Suppressed},
		{"critical_at high makes high critical: suppression ignored", suppressed(high, false), Policy{FailOn: "high", CriticalAt: "high"}, Failing},
		{"empty fail_on is high", high, Policy{}, Failing},
		{"empty fail_on is high: medium is below", med, Policy{}, Below},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.f, tc.p); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRaised(t *testing.T) {
	cases := []struct {
		name string
		fs   []checks.Finding
		p    Policy
		want []checks.Finding
	}{
		{"critical counts, high does not", []checks.Finding{crit, high}, Policy{FailOn: "high"}, []checks.Finding{crit}},
		{"a critical is caught even when fail_on is above nothing fails", []checks.Finding{crit}, Policy{FailOn: "critical"}, []checks.Finding{crit}},
		{"escape_rate.severity high counts high", []checks.Finding{crit, high, med}, Policy{FailOn: "critical", CriticalAt: "high"}, []checks.Finding{crit, high}},
		{"existing and base-suppressed do not count", []checks.Finding{existing(crit), suppressed(crit, true)}, Policy{}, nil},
		{"nothing", nil, Policy{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Raised(tc.fs, tc.p); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Raised = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	unread := []Unscanned{{Path: "big.env", Why: "over the size limit"}}
	exc := &Exception{ID: 4, Approver: "lead", Fingerprints: []string{"crit", "high"}}
	noFP := crit
	noFP.Fingerprint = ""
	cases := []struct {
		name                      string
		in                        Input
		want                      string
		uncovered, covered, below int
	}{
		{"clean", Input{}, Success, 0, 0, 0},
		{"failing", Input{Findings: []checks.Finding{crit}}, Failure, 1, 0, 0},
		{"below only", Input{Findings: []checks.Finding{med}}, Success, 0, 0, 1},
		{"all covered", Input{Findings: []checks.Finding{crit, high, med}, Exception: exc}, Neutral, 0, 2, 1},
		{"one not covered", Input{Findings: []checks.Finding{crit, finding("other", checks.SeverityCritical)}, Exception: exc}, Failure, 1, 1, 0},
		{"an exception without failing findings", Input{Findings: []checks.Finding{med}, Exception: exc}, Success, 0, 0, 1},
		{"too many files fails closed", Input{TooManyFiles: true}, Failure, 0, 0, 0},
		{"too many files beats an exception", Input{Findings: []checks.Finding{crit}, Exception: exc, TooManyFiles: true}, Failure, 0, 1, 0},
		{"an invalid changed policy fails", Input{ChangedPolicyInvalid: true}, Failure, 0, 0, 0},
		{"an unread file fails", Input{Unscanned: unread}, Failure, 0, 0, 0},
		{"an unread file fails beside an exception", Input{Findings: []checks.Finding{crit}, Exception: exc, Unscanned: unread}, Failure, 0, 1, 0},
		{"unscanned neutral: an unread file is neutral", Input{Unscanned: unread, Policy: Policy{UnscannedNeutral: true}}, Neutral, 0, 0, 0},
		{"unscanned neutral: a below finding stays neutral", Input{Findings: []checks.Finding{med}, Unscanned: unread, Policy: Policy{UnscannedNeutral: true}}, Neutral, 0, 0, 1},
		{"unscanned neutral: a failing finding still fails", Input{Findings: []checks.Finding{crit}, Unscanned: unread, Policy: Policy{UnscannedNeutral: true}}, Failure, 1, 0, 0},
		{"a finding without fingerprint is never covered", Input{Findings: []checks.Finding{noFP}, Exception: &Exception{Fingerprints: []string{""}}}, Failure, 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Decide(tc.in)
			if v.Conclusion != tc.want || len(v.Uncovered) != tc.uncovered || len(v.Covered) != tc.covered || len(v.Below) != tc.below {
				t.Errorf("Decide = %s (uncovered %d, covered %d, below %d), want %s (%d, %d, %d)",
					v.Conclusion, len(v.Uncovered), len(v.Covered), len(v.Below), tc.want, tc.uncovered, tc.covered, tc.below)
			}
			if v.Total() != len(tc.in.Findings) {
				t.Errorf("Total = %d, want %d", v.Total(), len(tc.in.Findings))
			}
		})
	}
}

func TestDecideOrdersWithoutTouchingInput(t *testing.T) {
	a := finding("a", checks.SeverityCritical)
	a.Path = "z.env"
	b := finding("b", checks.SeverityCritical)
	b.Path = "a.env"
	in := []checks.Finding{low, a, high, b}
	orig := append([]checks.Finding(nil), in...)
	v := Decide(Input{Findings: in, Policy: Policy{FailOn: "low"}})
	var got []string
	for _, it := range v.Uncovered {
		got = append(got, it.Finding.Fingerprint)
	}
	if want := []string{"b", "a", "high", "low"}; !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v (severity, then path)", got, want)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Error("Decide reordered its input")
	}
}
