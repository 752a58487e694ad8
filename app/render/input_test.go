package render

import (
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
)

// Input is, for these tests, everything one check run is made from: the verdict's
// inputs and the rendering's. Render decides and renders it as the gate does.
type Input struct {
	CheckInput
	Findings                []checks.Finding
	FailOn, CriticalAt      checks.Severity
	AllowInlineSuppressions bool
	Exception               *Exception
	Unscanned               []verdict.Unscanned
	UnscannedNeutral        bool
}

type Exception = verdict.Exception

const (
	ConclusionSuccess = verdict.Success
	ConclusionFailure = verdict.Failure
	ConclusionNeutral = verdict.Neutral
)

func Render(in Input) Result {
	v := verdict.Decide(verdict.Input{
		Findings:             in.Findings,
		Policy:               verdict.Policy{FailOn: in.FailOn, CriticalAt: in.CriticalAt, AllowInline: in.AllowInlineSuppressions, UnscannedNeutral: in.UnscannedNeutral},
		Exception:            in.Exception,
		TooManyFiles:         in.TooManyFiles,
		ChangedPolicyInvalid: len(in.ChangedPolicyErrors) > 0,
		Unscanned:            in.Unscanned,
	})
	return CheckRun(v, in.CheckInput)
}
