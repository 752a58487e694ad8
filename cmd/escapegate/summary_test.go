package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
)

// noInstallations drops installation records while seeding: a store that saw an org's
// webhooks but never its installation event.
type noInstallations struct{ store.Store }

func (noInstallations) PutInstallation(context.Context, store.Installation) error { return nil }

// TestSummaryOfAnOrgMissingFromTheStore: `escapegate summary --org acme` on a store that
// has acme's repositories but no installation record asks GitHub's list of installations,
// records acme's, and posts the one summary issue; run again, it finds that issue.
func TestSummaryOfAnOrgMissingFromTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "escapegate.db")
	st, err := bolt.Open(dbPath, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := escaperatetest.SeedOrg(ctx, noInstallations{st}, escaperatetest.OrgShape{InstallationID: 4242, Account: "acme",
		Repos: 2, CaughtPerRepo: 6, EscapeEvery: 3, MissedPerRepo: 1, Span: 90 * 24 * time.Hour, End: end}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	key, keyPath := writeAppKey(t, dir)
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddInstallation(4242, "acme/repo-0000", "acme/repo-0001", "acme/.github", "acme/security-reports")
	f.SetFile("acme/.github", "", "escapegate.yml", []byte("summary:\n  repository: security-reports\n"))
	cfg := writeTemp(t, "config.yml", fmt.Sprintf("github:\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: s\nstore: bolt:%s\n",
		f.URL(), keyPath, dbPath))

	for i, want := range []string{"created (issue #1)", "exists (issue #1)"} {
		code, out, errOut := runCmd(t, "", "summary", "--config", cfg, "--org", "acme", "--month", "2026-11")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %q; want %q", i+1, code, out, errOut, want)
		}
	}
	if issues := f.Issues("acme/security-reports"); len(issues) != 1 {
		t.Fatalf("%d issues, want 1", len(issues))
	}
	// Without the app's credentials it cannot ask GitHub: the store's answer stands.
	other := writeTemp(t, "c.yml", "store: bolt:"+dbPath+"\n")
	if code, _, errOut := runCmd(t, "", "summary", "--config", other, "--org", "beta", "--dry-run"); code != 1 || !strings.Contains(errOut, "no installation of beta") {
		t.Errorf("unknown org without credentials: %d %s", code, errOut)
	}
	// A known org renders without them, with the default escape_rate policy, and posts nothing.
	code, out, errOut := runCmd(t, "", "summary", "--config", other, "--org", "acme", "--month", "2026-11", "--dry-run")
	if code != 0 || !strings.Contains(out, "# escapegate summary — acme — 2026-11") || !strings.Contains(out, "acme/repo-0001") ||
		!strings.Contains(errOut, "default escape_rate policy") {
		t.Errorf("dry run without credentials: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if issues := f.Issues("acme/security-reports"); len(issues) != 1 {
		t.Errorf("%d issues after a dry run, want 1", len(issues))
	}
}
