package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

func TestPullRequestAddingAWSKeyFails(t *testing.T) {
	e := newEnv(t)
	key := awsKey()
	pr := e.openPR(1, "alice", "a1", fakegithub.PullFile{
		Filename: "deploy/settings.env", Status: "modified", Additions: 1,
		Patch: "@@ -10,3 +10,4 @@ # deploy\n REGION=eu-west-1\n+AWS_ACCESS_KEY_ID=" + key + "\n BUCKET=assets\n LOG=info",
	})
	runs := e.h.GitHub.CheckRuns(e.repo.FullName)
	if len(runs) != 1 {
		t.Fatalf("want exactly one check run, got %d", len(runs))
	}
	run := runs[0]
	if run.Status != "completed" || run.Conclusion != "failure" || run.HeadSHA != pr.HeadSHA {
		t.Fatalf("check run = %s/%s on %s", run.Status, run.Conclusion, run.HeadSHA)
	}
	found := false
	for _, a := range run.Annotations {
		if a.Path == "deploy/settings.env" && a.StartLine == 11 && a.Level == "failure" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no failure annotation at deploy/settings.env:11 in %+v", run.Annotations)
	}
	if e.requestsHold(key) {
		t.Fatal("a request to GitHub holds the raw AWS key")
	}
	if !strings.Contains(run.Summary, "AKIA…") {
		t.Errorf("summary does not show the redacted key:\n%s", run.Summary)
	}
}

func TestKeyOnRemovedOrContextLinePasses(t *testing.T) {
	key := awsKey()
	for _, tc := range []struct{ name, patch string }{
		{"removed line", "@@ -1,3 +1,2 @@\n A=1\n-AWS_ACCESS_KEY_ID=" + key + "\n B=2"},
		{"context line", "@@ -1,3 +1,4 @@\n A=1\n AWS_ACCESS_KEY_ID=" + key + "\n+C=3\n B=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pr := e.openPR(1, "alice", "b1", fakegithub.PullFile{Filename: "app.env", Status: "modified", Patch: tc.patch, Additions: 1})
			if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
				t.Fatalf("conclusion = %s, title %q", run.Conclusion, run.Title)
			}
		})
	}
}

func TestPushThatRemovesSecretsPasses(t *testing.T) {
	e := newEnv(t)
	pr := e.openPR(1, "alice", "c1", fakegithub.PullFile{Filename: "x.env", Status: "added", Patch: addedPatch("T=" + githubToken())})
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("first push: %s", run.Conclusion)
	}
	pr = e.push(pr, "c2", fakegithub.PullFile{Filename: "x.env", Status: "added", Patch: addedPatch("T=${GITHUB_TOKEN}")})
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("second push: %s %q", run.Conclusion, run.Title)
	}
}

func TestRefusedDeliveriesStoreNothing(t *testing.T) {
	e := newEnv(t)
	good := events.PullRequest(e.inst, e.repo, "opened", events.PR{Number: 1, Author: "a", HeadSHA: sha("d1"), BaseRef: "main"}, "a")
	tests := []struct {
		name    string
		body    []byte
		secret  []byte
		headers map[string]string
	}{
		{"wrong signature", good, []byte("not-the-secret"), nil},
		{"no signature", good, nil, map[string]string{"X-Hub-Signature-256": ""}},
		{"malformed JSON, correctly signed", []byte(`{"action":"opened","pull_request":`), e.h.Secret, nil},
		{"no installation, correctly signed", []byte(`{"action":"opened","number":1}`), e.h.Secret, nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secret := tc.secret
			if secret == nil {
				secret = e.h.Secret
			}
			id := "refused-" + string(rune('a'+i))
			req, err := fakegithub.NewWebhookRequest(context.Background(), e.h.URL, secret, "pull_request", id, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			e.h.Server.Wait()
			if resp.StatusCode < 400 || resp.StatusCode > 499 {
				t.Fatalf("status %d, want 4xx", resp.StatusCode)
			}
			if first, err := e.h.Store.MarkDelivery(context.Background(), id, time.Now()); err != nil || !first {
				t.Fatalf("delivery %s was recorded (first=%v, err=%v)", id, first, err)
			}
		})
	}
	if n := len(e.h.GitHub.Requests()); n != 0 {
		t.Fatalf("escapegate called GitHub %d times for refused deliveries", n)
	}
	if _, err := e.h.Store.GetScan(context.Background(), "acme/app", sha("d1")); err == nil {
		t.Fatal("a scan was stored for a refused delivery")
	}
}

func TestAgentPermissionThroughWebhook(t *testing.T) {
	settingsBase := "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read\"]\n  }\n}\n"
	tests := []struct {
		name, base, head, patch string
		want                    string
		line                    int
	}{
		{
			name:  "adds Bash(*)",
			base:  "{\n  \"permissions\": {\n    \"allow\": [\"Read\"]\n  }\n}\n",
			head:  "{\n  \"permissions\": {\n    \"allow\": [\n      \"Read\",\n      \"Bash(*)\"\n    ]\n  }\n}\n",
			patch: "@@ -1,5 +1,8 @@\n {\n   \"permissions\": {\n-    \"allow\": [\"Read\"]\n+    \"allow\": [\n+      \"Read\",\n+      \"Bash(*)\"\n+    ]\n   }\n }",
			want:  "failure", line: 5,
		},
		{
			name:  "narrows an existing allow list",
			base:  settingsBase,
			head:  "{\n  \"permissions\": {\n    \"allow\": [\"Bash(npm test)\", \"Read\"]\n  }\n}\n",
			patch: "@@ -1,5 +1,5 @@\n {\n   \"permissions\": {\n-    \"allow\": [\"Bash(*)\", \"Read\"]\n+    \"allow\": [\"Bash(npm test)\", \"Read\"]\n   }\n }",
			want:  "success",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.h.GitHub.SetFile(e.repo.FullName, sha("base"), ".claude/settings.json", []byte(tc.base))
			e.h.GitHub.SetFile(e.repo.FullName, sha("h1"), ".claude/settings.json", []byte(tc.head))
			pr := e.openPR(1, "alice", "h1", fakegithub.PullFile{Filename: ".claude/settings.json", Status: "modified", Patch: tc.patch, Additions: 3})
			run := e.lastRun(pr.HeadSHA)
			if run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%s)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
			if tc.line == 0 {
				return
			}
			for _, a := range run.Annotations {
				if a.Path == ".claude/settings.json" && a.StartLine == tc.line && a.Level == "failure" {
					return
				}
			}
			t.Fatalf("no failure annotation on line %d: %+v", tc.line, run.Annotations)
		})
	}
}
