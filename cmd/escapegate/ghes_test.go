package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/internal/testenv"
)

// TestServeOnGHES runs serve against a fake GitHub Enterprise Server, configured as an
// operator would (github.v3_api_url: https://HOST/api/v3/, go-githubapp's own key; no
// recovery.window): the app's JWT and installation tokens, a merge queue's group and
// a pull request all go through /api/v3/, nothing asks /rate_limit (GHES has rate
// limits off and answers 404 there), and a delivery that failed five days ago, past
// github.com's three days but within GHES's seven, is redelivered by the sweep at start.
func TestServeOnGHES(t *testing.T) {
	dir := t.TempDir()
	key, keyPath := writeAppKey(t, dir)
	f := fakegithub.NewEnterprise()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/app", "main")
	f.AddRepo("acme/lib", "main")
	f.AddInstallation(5, "acme/app", "acme/.github", "acme/lib")
	addr := freeAddr(t)
	f.SetHook("http://"+addr, []byte("s3cret"))

	// Failed five days ago, while escapegate was down.
	lib := events.Repo{ID: 2, FullName: "acme/lib", DefaultBranch: "main"}
	f.AddPull("acme/lib", fakegithub.Pull{Number: 7, Author: "bob", HeadSHA: strings.Repeat("d", 40), BaseSHA: strings.Repeat("0", 40),
		Files: []fakegithub.PullFile{{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # lib\n+more"}}})
	f.AddHookDelivery(fakegithub.HookDelivery{GUID: "0b5e0000-0000-4000-8000-000000000005", StatusCode: 0, Event: "pull_request",
		DeliveredAt: time.Now().Add(-5 * 24 * time.Hour),
		Payload:     events.PullRequest(5, lib, "opened", events.PR{Number: 7, Author: "bob", HeadSHA: strings.Repeat("d", 40), BaseRef: "main"}, "bob")})

	// A merge queue's group holding a token.
	app := events.Repo{ID: 1, FullName: "acme/app", DefaultBranch: "main"}
	group := events.Group{HeadSHA: strings.Repeat("9", 40), BaseSHA: strings.Repeat("0", 40), Base: "main", PR: 3}
	f.SetCompare("acme/app", group.BaseSHA, group.HeadSHA, []fakegithub.PullFile{{Filename: "app.env", Status: "added", Additions: 1,
		Patch: "@@ -0,0 +1 @@\n+TOKEN=" + fakecreds.FakeGitHubPAT()}})
	f.SetCompareCommits("acme/app", group.BaseSHA, group.HeadSHA, strings.Repeat("8", 40), group.HeadSHA)

	cfg := fmt.Sprintf("listen: %s\ngithub:\n  web_url: %s\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: s3cret\nstore: bolt:%s\n",
		addr, strings.TrimSuffix(f.URL(), "/api/v3/"), f.URL(), keyPath, filepath.Join(dir, "escapegate.db"))
	if !strings.HasSuffix(f.URL(), "/api/v3/") {
		t.Fatalf("the fake GHES's API is at %s", f.URL())
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &stdout, &stderr)
	}()
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	req, _ := fakegithub.NewWebhookRequest(ctx, "http://"+addr, []byte("s3cret"), "merge_group", "ghes-merge-group-1",
		events.MergeGroup(5, app, "checks_requested", "", group, "github-merge-queue[bot]"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("merge_group answered %d", resp.StatusCode)
	}
	waitFor(t, func() bool {
		runs := f.CheckRuns("acme/app")
		return len(runs) == 1 && runs[0].HeadSHA == group.HeadSHA && runs[0].Conclusion == "failure"
	})
	waitFor(t, func() bool {
		runs := f.CheckRuns("acme/lib")
		return len(runs) == 1 && runs[0].Conclusion == "success"
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	for _, r := range f.Requests() {
		if !strings.HasPrefix(r.Path, "/api/v3/") || strings.HasPrefix(r.Path, "/api/v3/rate_limit") {
			t.Errorf("on GHES serve asked %s %s", r.Method, r.Path)
		}
	}
	if strings.Contains(stderr.String(), fakecreds.FakeGitHubPAT()) {
		t.Fatal("the log holds the raw token")
	}
}
