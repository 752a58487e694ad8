package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/escapegate/escapegate/store"
)

// shape is a deterministic ledger: one organisation of Repos repositories with
// CaughtPerRepo findings each over Span (ending at End), plus OtherInstallations
// installations of OtherRepos repositories each carrying OtherCaught findings.
// The same flags always write the same records.
type shape struct {
	Account            string
	InstallationID     int64
	Repos              int
	CaughtPerRepo      int
	EscapeEvery        int // every n-th caught finding escapes (0: none); overridden ones get an exception
	MissedPerRepo      int
	OtherInstallations int
	OtherRepos         int
	OtherCaught        int
	Span               time.Duration
	End                time.Time
	Batch              int // caught findings per RecordScan transaction
	Workers            int // repositories written at once
}

// totals is what seed wrote.
type totals struct {
	Installations, Repos, Caught, Escapes, Exceptions int
}

func (t *totals) add(o totals) {
	t.Installations += o.Installations
	t.Repos += o.Repos
	t.Caught += o.Caught
	t.Escapes += o.Escapes
	t.Exceptions += o.Exceptions
}

// repoJob is one repository to write.
type repoJob struct {
	inst                     int64
	name                     string
	id                       int64
	caught, escEvery, missed int
}

// seed writes the shape into st through the store's own interface: caught
// findings in RecordScan batches (one transaction each), escapes and
// exceptions one call each, as the gate records them.
func seed(ctx context.Context, st store.Store, sh shape) (totals, error) {
	var t totals
	added := sh.End.Add(-sh.Span)
	insts := []store.Installation{{ID: sh.InstallationID, Account: sh.Account, AccountType: "Organization", CreatedAt: added}}
	for i := range sh.OtherInstallations {
		insts = append(insts, store.Installation{ID: sh.InstallationID + 1 + int64(i), Account: fmt.Sprintf("other-%04d", i), AccountType: "Organization", CreatedAt: added})
	}
	var jobs []repoJob
	for _, in := range insts {
		if err := st.PutInstallation(ctx, in); err != nil {
			return t, fmt.Errorf("seed installation %d: %w", in.ID, err)
		}
		t.Installations++
		n, caught, every, missed := sh.Repos, sh.CaughtPerRepo, sh.EscapeEvery, sh.MissedPerRepo
		if in.ID != sh.InstallationID {
			n, caught, every, missed = sh.OtherRepos, sh.OtherCaught, sh.EscapeEvery, min(sh.MissedPerRepo, 1)
		}
		for r := range n {
			jobs = append(jobs, repoJob{inst: in.ID, name: fmt.Sprintf("%s/repo-%05d", in.Account, r), id: in.ID*1_000_000 + int64(r),
				caught: caught, escEvery: every, missed: missed})
		}
	}
	results := make([]totals, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, sh.Workers))
	for i, j := range jobs {
		g.Go(func() error {
			var err error
			results[i], err = seedRepo(gctx, st, j, added, sh)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return t, err
	}
	for _, r := range results {
		t.add(r)
	}
	return t, nil
}

// fingerprint is a deterministic stand-in of the store's HMAC-SHA256 hex fingerprints.
func fingerprint(repo string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "seed/%s/%d", repo, i))
	return hex.EncodeToString(sum[:])
}

var rules = []string{"github-pat", "aws-access-key", "slack-bot-token", "private-key", "gcp-service-account", "stripe-secret", "GHA-1"}

func seedRepo(ctx context.Context, st store.Store, j repoJob, added time.Time, sh shape) (totals, error) {
	t := totals{Repos: 1}
	if err := st.PutRepository(ctx, store.Repository{ID: j.id, InstallationID: j.inst, FullName: j.name, DefaultBranch: "main", AddedAt: added}); err != nil {
		return t, fmt.Errorf("seed repository %s: %w", j.name, err)
	}
	step := sh.Span / time.Duration(max(1, j.caught+j.missed))
	batch := make([]store.Caught, 0, sh.Batch)
	flush := func(n int) error {
		if len(batch) == 0 {
			return nil
		}
		sc := store.Scan{Repo: j.name, SHA: fmt.Sprintf("%040x", n), PR: batch[0].PR, Conclusion: "failure", At: batch[len(batch)-1].At}
		firsts, err := st.RecordScan(ctx, sc, batch)
		if err != nil {
			return fmt.Errorf("seed caught in %s: %w", j.name, err)
		}
		t.Caught += firsts
		batch = batch[:0]
		return nil
	}
	var escapes []store.Escape
	for i := range j.caught {
		at := added.Add(step*time.Duration(i) + time.Minute)
		sev := "critical"
		if i%2 == 1 {
			sev = "high"
		}
		c := store.Caught{Repo: j.name, Fingerprint: fingerprint(j.name, i), Rule: rules[i%len(rules)], Severity: sev,
			Path: fmt.Sprintf("services/svc-%d/config.env", i%50), PR: i/20 + 1, SHA: fmt.Sprintf("%040x", i/20), At: at}
		batch = append(batch, c)
		if len(batch) == sh.Batch {
			if err := flush(i); err != nil {
				return t, err
			}
		}
		if j.escEvery > 0 && i%j.escEvery == 0 {
			kind := store.EscapeOverridden
			if (i/j.escEvery)%2 == 1 {
				kind = store.EscapeAdvisory
			}
			escapes = append(escapes, store.Escape{Repo: j.name, Fingerprint: c.Fingerprint, Kind: kind, Rule: c.Rule, Severity: sev,
				Path: c.Path, Redacted: "ghp_…(36)", PR: c.PR, SHA: c.SHA, DetectedAt: at, At: at.Add(time.Hour)})
		}
	}
	if err := flush(j.caught); err != nil {
		return t, err
	}
	for i := range j.missed {
		at := added.Add(step*time.Duration(j.caught+i) + time.Minute)
		escapes = append(escapes, store.Escape{Repo: j.name, Fingerprint: fingerprint(j.name, -1-i), Kind: store.EscapeMissed, Rule: "github-pat",
			Severity: "critical", Path: "deploy/.env", SHA: fmt.Sprintf("%040x", 1<<40+i), DetectedAt: at, At: at})
	}
	for n, e := range escapes {
		if e.Kind == store.EscapeOverridden {
			reason := []string{"fix_later", "used_in_tests", "false_positive", ""}[n%4]
			state := store.ExceptionMerged
			ex, _, err := st.AddException(ctx, store.Exception{Repo: j.name, PR: e.PR, HeadSHA: e.SHA, Approver: fmt.Sprintf("approver-%d", n%5),
				Reason: reason, Label: "escapegate:override", Fingerprints: []string{e.Fingerprint}, CreatedAt: e.DetectedAt,
				ExpiresAt: e.DetectedAt.Add(30 * 24 * time.Hour), State: state, EndedAt: e.At, DeliveryID: fmt.Sprintf("seed-%s-%d", j.name, n)})
			if err != nil {
				return t, fmt.Errorf("seed exception in %s: %w", j.name, err)
			}
			e.ExceptionID, e.Approver, e.Reason = ex.ID, ex.Approver, ex.Reason
			t.Exceptions++
		}
		if _, first, err := st.AddEscape(ctx, e); err != nil {
			return t, fmt.Errorf("seed escape in %s: %w", j.name, err)
		} else if first {
			t.Escapes++
		}
	}
	return t, nil
}
