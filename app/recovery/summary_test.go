package recovery_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

// withoutInstallations drops installation records: a store that saw webhooks of an
// installation but never its installation event.
type withoutInstallations struct{ store.Store }

func (withoutInstallations) PutInstallation(context.Context, store.Installation) error { return nil }

// TestSummaryOfAnInstallationKnownFromGitHub: the store has an org's repositories and
// their history but no installation record, so `escapegate summary --org acme` found
// none and no monthly issue was posted. After a reconcile with GitHub's list, the
// monthly job posts exactly one issue, and the command finds the installation.
func TestSummaryOfAnInstallationKnownFromGitHub(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 0, 5, 0, 0, time.UTC)
	clock := func() time.Time { return t0 }
	st := memstore.New()
	if err := escaperatetest.SeedOrg(ctx, withoutInstallations{st}, escaperatetest.OrgShape{InstallationID: 4242, Account: "acme",
		Repos: 3, CaughtPerRepo: 12, EscapeEvery: 4, MissedPerRepo: 1, Span: 120 * 24 * time.Hour, End: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := summary.FindInstallation(ctx, st, "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("before: FindInstallation = %v, want not found", err)
	}

	f := fakegithub.New()
	defer f.Close()
	t.Cleanup(func() { checkAPI(t, f) })
	f.AddInstallation(4242, "acme/repo-0000", "acme/repo-0001", "acme/repo-0002", "acme/.github", "acme/security-reports")
	f.SetFile("acme/.github", "", "escapegate.yml", []byte("summary:\n  repository: security-reports\n"))
	app, err := server.PlainApp(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	clients, err := server.PlainClients(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(gate.Options{Store: st, Clients: clients, FingerprintKey: []byte("k"), Now: clock, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := recovery.New(recovery.Options{App: app, Store: st, Gate: g, Now: clock, Log: zerolog.Nop(),
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rec.Reconcile(ctx)
	if err != nil || len(res.Added) != 1 || res.ReposAdded != 2 || res.Removed != 0 {
		t.Fatalf("reconcile = %+v, %v", res, err)
	}
	inst, err := summary.FindInstallation(ctx, st, "acme")
	if err != nil || inst.ID != 4242 || !inst.CreatedAt.Equal(t0.Add(-120*24*time.Hour)) {
		t.Fatalf("after: FindInstallation = %+v, %v (want it counting from its first repository)", inst, err)
	}

	svc := &summary.Service{Store: st, Clients: clients, Policy: g.Policy, Log: zerolog.Nop()}
	sch := summary.Scheduler{Store: st, Target: svc.Target, Log: zerolog.Nop()}
	for range 2 {
		outs, err := sch.RunDue(ctx, t0)
		if err != nil || len(outs) != 1 {
			t.Fatalf("RunDue = %+v, %v", outs, err)
		}
	}
	issues := f.Issues("acme/security-reports")
	if len(issues) != 1 || issues[0].Title != render.MonthlyTitle("acme", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%d issues, want exactly one November summary", len(issues))
	}
	// `escapegate summary --org acme --month 2026-11` takes the same path: it finds the
	// one issue rather than posting another.
	out, err := svc.RunOne(ctx, inst.ID, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false)
	if err != nil || out.Status != summary.StatusExists || len(f.Issues("acme/security-reports")) != 1 {
		t.Errorf("RunOne = %+v, %v", out, err)
	}
}
