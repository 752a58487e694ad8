// Package verdict decides what a check run concludes: which findings fail, which an
// exception covers, what counts as a caught critical risk, and the conclusion. It is the
// product's rule (DESIGN §1 and §3), kept apart from how the result is rendered
// (app/render) and from where the findings came from (checks/scan). Pure: no GitHub,
// no store, no clock.
package verdict

import (
	"cmp"
	"slices"
	"time"

	"github.com/escapegate/escapegate/checks"
)

// Conclusions a completed check run can have here.
const (
	Success = "success"
	Failure = "failure"
	Neutral = "neutral"
)

// Policy is the part of the policy that decides a verdict.
type Policy struct {
	// FailOn is policy fail_on; empty means the built-in default, high.
	FailOn checks.Severity
	// CriticalAt is policy escape_rate.severity; empty means critical.
	CriticalAt checks.Severity
	// AllowInline is policy secrets.allow_inline_suppressions.
	AllowInline bool
	// UnscannedNeutral is policy `unscanned: neutral`: a changed file that could not be
	// read makes the check neutral instead of failing it.
	UnscannedNeutral bool
}

// withDefaults fills in the built-in defaults of empty thresholds.
func (p Policy) withDefaults() Policy {
	if p.FailOn.Rank() == 0 {
		p.FailOn = checks.SeverityHigh
	}
	if p.CriticalAt.Rank() == 0 {
		p.CriticalAt = checks.SeverityCritical
	}
	return p
}

// Exception is the active override on a pull request.
type Exception struct {
	ID           int64
	Approver     string
	Reason       string // false_positive, used_in_tests, fix_later or "" (from the reason label)
	ExpiresAt    time.Time
	Fingerprints []string // the findings it covers
}

// State is where one finding lands on the check run.
type State int

const (
	Failing    State = iota // fails unless the exception covers it
	Existing                // already on the base branch
	Suppressed              // silenced by an inline suppression
	Below                   // below fail_on
)

// Classify places one finding. A suppression silences a finding only when it was
// already on the base branch, when the finding is below the critical threshold, or when
// policy allows inline suppressions: a pull request cannot switch off a critical risk by
// itself.
func Classify(f checks.Finding, p Policy) State {
	p = p.withDefaults()
	switch {
	case f.Existing:
		return Existing
	case f.Suppressed && (f.SuppressedOnBase || !f.Severity.AtLeast(p.CriticalAt) || p.AllowInline):
		return Suppressed
	case !f.Severity.AtLeast(p.FailOn):
		return Below
	}
	return Failing
}

// FailingFindings returns the findings that fail the check (before exceptions), in input order.
func FailingFindings(findings []checks.Finding, p Policy) []checks.Finding {
	var out []checks.Finding
	for _, f := range findings {
		if Classify(f, p) == Failing {
			out = append(out, f)
		}
	}
	return out
}

// Raised is what a PR check counts as caught: findings that fail at the stricter of
// fail_on and the critical threshold, kept only when they are critical risks. A critical
// risk is caught even when the repository's fail_on is set above it.
func Raised(findings []checks.Finding, p Policy) []checks.Finding {
	p = p.withDefaults()
	strict := p
	if p.CriticalAt.Rank() < p.FailOn.Rank() {
		strict.FailOn = p.CriticalAt
	}
	var out []checks.Finding
	for _, f := range FailingFindings(findings, strict) {
		if f.Severity.AtLeast(p.CriticalAt) {
			out = append(out, f)
		}
	}
	return out
}

// Item is one finding with its place on the check run.
type Item struct {
	Finding checks.Finding
	State   State
	Covered bool // failing, and the exception covers its fingerprint
}

// Input is what a verdict is decided on.
type Input struct {
	Findings  []checks.Finding
	Policy    Policy
	Exception *Exception
	// TooManyFiles: the change has more files than GitHub lists; it fails closed.
	TooManyFiles bool
	// ChangedPolicyInvalid: the change edits a policy file that does not validate.
	ChangedPolicyInvalid bool
	// Unscanned are the changed files that could not be read (too large, gone, GitHub
	// errors): nothing is known of them, so they fail the check (neutral with policy
	// `unscanned: neutral`). Media files that are not scanned are not listed here.
	Unscanned []Unscanned
}

// Unscanned is a changed file that could not be scanned, with why.
type Unscanned struct{ Path, Why string }

// Verdict is the decision, with every finding classified in display order (severity,
// then path, line, rule, fingerprint).
type Verdict struct {
	Conclusion string
	Policy     Policy // with defaults filled in
	Exception  *Exception

	Uncovered, Covered, Existing, Suppressed, Below []Item
	// Unscanned are the files that could not be read; UnscannedFail says they fail the check.
	Unscanned     []Unscanned
	UnscannedFail bool
}

// Decide classifies every finding and concludes: failure when the change cannot be
// checked whole (too many files, or a file that could not be read unless policy says
// `unscanned: neutral`) or a failing finding is not covered, neutral when every failing
// finding is covered by the exception or unread files are neutral by policy, success
// otherwise.
func Decide(in Input) Verdict {
	v := Verdict{Policy: in.Policy.withDefaults(), Exception: in.Exception, Unscanned: in.Unscanned}
	v.UnscannedFail = len(in.Unscanned) > 0 && !in.Policy.UnscannedNeutral
	fs := slices.Clone(in.Findings)
	slices.SortStableFunc(fs, func(a, b checks.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Fingerprint, b.Fingerprint),
		)
	})
	covers := map[string]bool{}
	if in.Exception != nil {
		for _, fp := range in.Exception.Fingerprints {
			covers[fp] = true
		}
	}
	for _, f := range fs {
		it := Item{Finding: f, State: Classify(f, v.Policy)}
		switch it.State {
		case Failing:
			it.Covered = f.Fingerprint != "" && covers[f.Fingerprint]
			if it.Covered {
				v.Covered = append(v.Covered, it)
			} else {
				v.Uncovered = append(v.Uncovered, it)
			}
		case Existing:
			v.Existing = append(v.Existing, it)
		case Suppressed:
			v.Suppressed = append(v.Suppressed, it)
		case Below:
			v.Below = append(v.Below, it)
		}
	}
	switch {
	case in.TooManyFiles, in.ChangedPolicyInvalid, len(v.Uncovered) > 0, v.UnscannedFail:
		v.Conclusion = Failure
	case len(v.Covered) > 0, len(v.Unscanned) > 0:
		v.Conclusion = Neutral
	default:
		v.Conclusion = Success
	}
	return v
}

// Total is the number of findings the verdict classified.
func (v Verdict) Total() int {
	return len(v.Uncovered) + len(v.Covered) + len(v.Existing) + len(v.Suppressed) + len(v.Below)
}
