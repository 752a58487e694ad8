package recovery_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/internal/testenv"
)

var apiSpec = sync.OnceValues(func() (*apivalidate.Validator, error) {
	dir := testenv.SharedDir()
	if dir == "" {
		return nil, nil
	}
	return apivalidate.Load(context.Background(), filepath.Join(dir, "fixtures", "openapi", "api.github.com.2022-07.json"),
		filepath.Join(dir, "fixtures", "openapi", "api.github.com.2026.json"))
})

// checkAPI validates every request sent to the fake GitHub against GitHub's API
// description (when ../shared is there).
func checkAPI(t *testing.T, f *fakegithub.Server) {
	t.Helper()
	v, err := apiSpec()
	if err != nil {
		t.Fatalf("loading GitHub's API description: %v", err)
	}
	if v == nil {
		t.Log("../shared is absent: requests not validated against GitHub's API description")
		return
	}
	for _, p := range v.ValidateAll(context.Background(), f.Requests()) {
		t.Errorf("GitHub would refuse: %s", p)
	}
}

func sha(tag string) string { return fmt.Sprintf("%040s", tag) }

// TestFailedWhileDownRecovered: pull requests opened while escapegate was down are in
// GitHub's delivery log as failed (no connection, a 502 from the proxy). One sweep has
// GitHub redeliver them; they reach the real webhook handler and get their check runs,
// each exactly once however often the sweep runs, even with its state lost. A delivery
// GitHub logged as failed that escapegate did handle is left alone, and the installation
// the events name is recorded though its installation event never came.
func TestFailedWhileDownRecovered(t *testing.T) {
	ctx := context.Background()
	h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f := h.GitHub
	t.Cleanup(func() { checkAPI(t, f) })
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	const inst = 9
	f.AddRepo("acme/app", "main")
	f.AddRepo("acme/.github", "main")
	f.AddInstallation(inst, "acme/app", "acme/.github")

	type pr struct {
		n     int
		guid  string
		code  int // the failed attempt's status code
		files []fakegithub.PullFile
		want  string // the check's conclusion
	}
	leak := fakegithub.PullFile{Filename: "deploy/env.sh", Status: "added", Additions: 1,
		Patch: "@@ -0,0 +1 @@\n+export AWS_ACCESS_KEY_ID=" + fakecreds.FakeAWSKey()}
	clean := fakegithub.PullFile{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # app\n+more"}
	prs := []pr{
		{n: 1, guid: "6f1c0a00-0000-4000-8000-000000000001", code: 0, files: []fakegithub.PullFile{leak}, want: "failure"},
		{n: 2, guid: "6f1c0a00-0000-4000-8000-000000000002", code: 502, files: []fakegithub.PullFile{clean}, want: "success"},
	}
	down := time.Now().Add(-30 * time.Minute)
	for i, p := range prs {
		ev := events.PR{Number: p.n, Title: fmt.Sprintf("change %d", p.n), Author: "dev", HeadSHA: sha(fmt.Sprint(p.n)),
			HeadRef: fmt.Sprintf("feature/%d", p.n), BaseSHA: sha("base"), BaseRef: "main"}
		f.AddPull("acme/app", fakegithub.Pull{Number: p.n, Title: ev.Title, Author: ev.Author, HeadSHA: ev.HeadSHA, HeadRef: ev.HeadRef,
			BaseSHA: ev.BaseSHA, BaseRef: "main", Files: p.files})
		f.AddHookDelivery(fakegithub.HookDelivery{GUID: p.guid, DeliveredAt: down.Add(time.Duration(i) * time.Minute), StatusCode: p.code,
			Event: "pull_request", Payload: events.PullRequest(inst, repo, "opened", ev, "dev")})
	}
	// Handled live: one PR whose delivery GitHub logged OK and, oddly, failed too; one that
	// escapegate handled but GitHub timed out waiting for (logged as failed only).
	for _, n := range []int{3, 4} {
		ev := events.PR{Number: n, Title: fmt.Sprintf("change %d", n), Author: "dev", HeadSHA: sha(fmt.Sprint(n)), HeadRef: fmt.Sprintf("feature/%d", n),
			BaseSHA: sha("base"), BaseRef: "main"}
		f.AddPull("acme/app", fakegithub.Pull{Number: n, Title: ev.Title, Author: "dev", HeadSHA: ev.HeadSHA, HeadRef: ev.HeadRef,
			BaseSHA: ev.BaseSHA, BaseRef: "main", Files: []fakegithub.PullFile{clean}})
		guid := fmt.Sprintf("6f1c0a00-0000-4000-8000-00000000000%d", n)
		payload := events.PullRequest(inst, repo, "opened", ev, "dev")
		if n == 3 {
			if code, err := h.SendDelivery(ctx, "pull_request", guid, payload); err != nil || code < 200 || code > 299 {
				t.Fatalf("live delivery: %d, %v", code, err)
			}
		} else {
			req, err := fakegithub.NewWebhookRequest(ctx, h.URL, h.Secret, "pull_request", guid, payload)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h.Server.Wait()
		}
		f.AddHookDelivery(fakegithub.HookDelivery{GUID: guid, StatusCode: 0, Event: "pull_request", Payload: payload})
	}
	// An event escapegate does not subscribe to.
	f.AddHookDelivery(fakegithub.HookDelivery{GUID: "6f1c0a00-0000-4000-8000-000000000005", StatusCode: 0, Event: "star", Payload: []byte(`{"action":"created"}`)})

	rec, err := h.Recovery(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	sweep := func() recovery.SweepResult {
		t.Helper()
		res, err := rec.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f.WaitWebhooks() // GitHub redelivers a moment after it accepts
		h.Server.Wait()
		return res
	}
	runs := func() map[string][]string {
		out := map[string][]string{}
		for _, r := range f.CheckRuns("acme/app") {
			out[r.HeadSHA] = append(out[r.HeadSHA], r.Conclusion)
		}
		return out
	}

	res := sweep()
	if len(res.Redelivered) != 2 || res.Skipped[recovery.SkipSeen] != 1 || res.Skipped[recovery.SkipDeliveredLater] != 1 ||
		res.Skipped[recovery.SkipEvent] != 1 {
		t.Fatalf("first sweep = %+v", res)
	}
	got := runs()
	for _, p := range prs {
		if c := got[sha(fmt.Sprint(p.n))]; len(c) != 1 || c[0] != p.want {
			t.Errorf("PR #%d check runs = %v, want one %s", p.n, c, p.want)
		}
	}
	for _, n := range []string{"3", "4"} {
		if c := got[sha(n)]; len(c) != 1 {
			t.Errorf("PR #%s (handled live) check runs = %v, want the one", n, c)
		}
	}
	for _, d := range f.HookDeliveries()[:2] {
		if !d.Redelivery || d.StatusCode < 200 || d.StatusCode > 299 {
			t.Errorf("redelivery logged as %+v", d)
		}
	}
	in, err := h.Store.GetInstallation(ctx, inst)
	if err != nil || in.Account != "acme" || !in.DeletedAt.IsZero() {
		t.Errorf("installation named by the events = %+v, %v", in, err)
	}

	// Again, and again with the sweep's state lost: the log and the store keep it once.
	res = sweep()
	if len(res.Redelivered) != 0 {
		t.Errorf("second sweep redelivered %v", res.Redelivered)
	}
	if err := h.Store.DeleteSetting(ctx, "recovery/sweep"); err != nil {
		t.Fatal(err)
	}
	res = sweep()
	if len(res.Redelivered) != 0 || res.Skipped[recovery.SkipDeliveredLater] != 3 || res.Skipped[recovery.SkipSeen] != 1 {
		t.Errorf("sweep without its state = %+v", res)
	}
	if after := runs(); fmt.Sprint(after) != fmt.Sprint(got) {
		t.Errorf("check runs after more sweeps = %v, want %v", after, got)
	}
}
