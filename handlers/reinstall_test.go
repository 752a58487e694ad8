package handlers_test

import (
	"testing"

	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// TestReinstallCountsFromTheNewInstall: deleting the installation marks its repositories
// removed, so a later install counts from then on and the uninstalled time is not covered.
func TestReinstallCountsFromTheNewInstall(t *testing.T) {
	e := newEnv(t)
	dotgh := events.Repo{ID: 43, FullName: "acme/.github", DefaultBranch: "main"}
	e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, dotgh}, "sec-lead"))
	first := e.repository(e.repo.FullName)
	if first.AddedAt.IsZero() || !first.RemovedAt.IsZero() {
		t.Fatalf("after install: %+v", first)
	}
	for _, tc := range []struct{ action, wantState string }{{"suspend", "suspended"}, {"unsuspend", "active"}, {"deleted", "deleted"}} {
		e.send("installation", events.InstallationAction(e.inst, "acme", tc.action, "sec-lead"))
		in, err := e.h.Store.GetInstallation(e.ctx, e.inst)
		if err != nil {
			t.Fatal(err)
		}
		state := "active"
		switch {
		case !in.DeletedAt.IsZero():
			state = "deleted"
		case in.Suspended:
			state = "suspended"
		}
		if state != tc.wantState {
			t.Fatalf("after %s: installation is %s, want %s", tc.action, state, tc.wantState)
		}
	}
	if r := e.repository(e.repo.FullName); r.RemovedAt.IsZero() {
		t.Fatalf("repository still covered after the installation was deleted: %+v", r)
	}
	e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, dotgh}, "sec-lead"))
	again := e.repository(e.repo.FullName)
	if !again.RemovedAt.IsZero() || !again.AddedAt.After(first.AddedAt) {
		t.Fatalf("after reinstall: %+v (first install %+v)", again, first)
	}
}
