// Package escaperatetest seeds a store.Store with synthetic organisations for the
// tests and benchmarks of the escape-rate, report and summary packages. Those
// that need no real backend seed a memstore.Store.
package escaperatetest

import (
	"context"
	"fmt"
	"time"

	"github.com/escapegate/escapegate/store"
)

// OrgShape describes a synthetic organisation for benchmarks and load tests.
type OrgShape struct {
	InstallationID int64
	Account        string
	Repos          int
	CaughtPerRepo  int // critical fingerprints caught per repository, spread over Span
	EscapeEvery    int // every n-th caught fingerprint escapes (0: none)
	MissedPerRepo  int
	Span           time.Duration // how far back the data goes from End
	End            time.Time
}

var kinds = []string{store.EscapeOverridden, store.EscapeAdvisory}

// SeedOrg fills st with a deterministic organisation of the given shape.
// Every other caught finding is "high" so that severity filtering has work to do.
func SeedOrg(ctx context.Context, st store.Store, o OrgShape) error {
	added := o.End.Add(-o.Span)
	if err := st.PutInstallation(ctx, store.Installation{ID: o.InstallationID, Account: o.Account, AccountType: "Organization", CreatedAt: added}); err != nil {
		return fmt.Errorf("seed installation: %w", err)
	}
	for r := range o.Repos {
		repo := fmt.Sprintf("%s/repo-%04d", o.Account, r)
		if err := st.PutRepository(ctx, store.Repository{ID: int64(r + 1), InstallationID: o.InstallationID, FullName: repo, DefaultBranch: "main", AddedAt: added}); err != nil {
			return fmt.Errorf("seed repository: %w", err)
		}
		total := o.CaughtPerRepo + o.MissedPerRepo
		step := o.Span / time.Duration(max(1, total))
		for i := range o.CaughtPerRepo {
			at := added.Add(step*time.Duration(i) + time.Minute)
			fp := fmt.Sprintf("fp-%d-%d", r, i)
			sev := "critical"
			if i%2 == 1 {
				sev = "high"
			}
			c := store.Caught{Repo: repo, Fingerprint: fp, Rule: fmt.Sprintf("rule-%d", i%7), Severity: sev, Path: "config/app.env", PR: i + 1, SHA: "abc", At: at}
			if _, err := st.RecordCaught(ctx, c); err != nil {
				return fmt.Errorf("seed caught: %w", err)
			}
			if o.EscapeEvery > 0 && i%o.EscapeEvery == 0 {
				e := store.Escape{Repo: repo, Fingerprint: fp, Kind: kinds[(i/o.EscapeEvery)%2], Rule: c.Rule, Severity: sev, Path: c.Path, PR: c.PR, SHA: "def", Approver: "sec-lead", Reason: "fix_later", DetectedAt: at, At: at.Add(time.Hour)}
				if _, _, err := st.AddEscape(ctx, e); err != nil {
					return fmt.Errorf("seed escape: %w", err)
				}
			}
		}
		for i := range o.MissedPerRepo {
			at := added.Add(step*time.Duration(o.CaughtPerRepo+i) + time.Minute)
			e := store.Escape{Repo: repo, Fingerprint: fmt.Sprintf("missed-%d-%d", r, i), Kind: store.EscapeMissed, Rule: "github-pat", Severity: "critical", Path: "deploy/.env", SHA: "fed", DetectedAt: at, At: at}
			if _, _, err := st.AddEscape(ctx, e); err != nil {
				return fmt.Errorf("seed missed escape: %w", err)
			}
		}
	}
	return nil
}
