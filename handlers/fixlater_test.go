package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// issueEvent is an issues event as GitHub sends it for issue i of the repository.
func (e *env) issueEvent(action string, i fakegithub.Issue, authorType string, at time.Time) []byte {
	e.t.Helper()
	issue := map[string]any{"number": i.Number, "title": i.Title, "body": i.Body, "state": "closed",
		"user": map[string]any{"login": i.Author, "type": authorType}}
	if action == "closed" {
		issue["closed_at"] = at.UTC().Format(time.RFC3339)
	} else {
		issue["state"] = "open"
	}
	b, err := json.Marshal(map[string]any{"action": action, "issue": issue, "installation": map[string]any{"id": e.inst},
		"repository": map[string]any{"id": e.repo.ID, "full_name": e.repo.FullName, "name": "app", "owner": map[string]any{"login": "acme"}},
		"sender":     map[string]any{"login": "alice", "type": "User"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// TestFixLaterIsTracked: a "fix later" exception that merges opens one issue assigned to
// the PR's author, with the findings (redacted), the approver and the due date; it is
// reminded once before the deadline; closing it records the remediation, which the report
// and the monthly summary show; reopening takes it back; another issue with a copied
// marker changes nothing.
func TestFixLaterIsTracked(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	e, _ := newEnvOpts(t, demo.Options{Now: clk.Now})
	e.withTeamPolicy()
	e.h.GitHub.SetPermission(e.repo.FullName, "alice", "write")
	secret := awsKey()
	pr := e.openPR(1, "alice", "f1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+secret))
	e.h.GitHub.AddLabel(e.repo.FullName, 1, "escapegate/fix-later")
	e.label(pr, overrideLabel, "sec-lead")
	excs := e.exceptions(1)
	if len(excs) != 1 || excs[0].Reason != escaperate.ReasonFixLater {
		t.Fatalf("exceptions = %+v", excs)
	}
	e.merge(pr, "sec-lead")
	e.merge(pr, "sec-lead") // redelivered with a new id
	g := e.h.Server.Gate()
	if opened, reminded, err := g.TrackFixLater(e.ctx); err != nil || opened != 0 || reminded != 0 {
		t.Fatalf("periodic pass after the merge opened %d, reminded %d (%v); want nothing more", opened, reminded, err)
	}
	issues := e.h.GitHub.Issues(e.repo.FullName)
	if len(issues) != 1 {
		t.Fatalf("want one fix-later issue, got %+v", issues)
	}
	is := issues[0]
	exc := e.exceptions(1)[0]
	if is.Title != render.FixLaterTitle(exc) || strings.Join(is.Assignees, ",") != "alice" || exc.Issue != is.Number {
		t.Fatalf("issue %q assigned %v; exception issue %d", is.Title, is.Assignees, exc.Issue)
	}
	for _, want := range []string{"`@sec-lead`", "aws-access-token", "deploy/prod.env:1", "AKIA…", "due on " + exc.ExpiresAt.Format("2006-01-02")} {
		if !strings.Contains(is.Body, want) {
			t.Errorf("issue body lacks %q:\n%s", want, is.Body)
		}
	}
	if strings.Contains(is.Body, secret) {
		t.Fatal("issue body shows the secret")
	}

	// Two days before the deadline: one reminder, however often the pass runs.
	clk.Advance(exc.ExpiresAt.Sub(clk.Now()) - 48*time.Hour)
	for range 2 {
		if _, _, err := g.TrackFixLater(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	cs := e.h.GitHub.Comments(e.repo.FullName, is.Number)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "@alice, a reminder") || !strings.Contains(cs[0].Body, "in 2 days") {
		t.Fatalf("reminders = %+v", cs)
	}

	// Another issue carrying the marker, opened by a person, changes nothing.
	forged := fakegithub.Issue{Number: 99, Title: "x", Body: is.Body, Author: "mallory"}
	e.send("issues", e.issueEvent("closed", forged, "User", clk.Now()))
	if got := e.exceptions(1)[0]; !got.RemediatedAt.IsZero() {
		t.Fatal("a forged issue recorded a remediation")
	}
	fixedAt := clk.Now().Add(time.Hour)
	e.send("issues", e.issueEvent("closed", is, "Bot", fixedAt))
	got := e.exceptions(1)[0]
	if !got.RemediatedAt.Equal(fixedAt.Truncate(time.Second)) {
		t.Fatalf("remediated at %v, want %v", got.RemediatedAt, fixedAt)
	}
	rep, err := escaperate.Compute(e.ctx, e.h.Store, e.repo.FullName, fixedAt.Add(time.Hour), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Exceptions) != 0 {
		t.Fatalf("a remediated fix-later exception is still owed: %+v", rep.Exceptions)
	}
	month, err := escaperate.OrgMonth(e.ctx, e.h.Store, e.inst, fixedAt, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if month.Remediated.Count != 1 || month.Remediated.Late != 0 || len(month.Overdue) != 0 {
		t.Fatalf("month: remediated %+v, overdue %d", month.Remediated, len(month.Overdue))
	}
	if _, body := render.MonthlySummary(month); !strings.Contains(body, "Fixed this month: 1 (time to remediate: median") {
		t.Fatalf("monthly summary lacks the time to remediate:\n%s", body)
	}

	// Reopened: owed again, and overdue once the deadline passes.
	e.send("issues", e.issueEvent("reopened", is, "Bot", time.Time{}))
	clk.Advance(72 * time.Hour)
	rep, err = escaperate.Compute(e.ctx, e.h.Store, e.repo.FullName, clk.Now(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Exceptions) != 1 || !rep.Exceptions[0].Overdue {
		t.Fatalf("reopened past the deadline: %+v", rep.Exceptions)
	}
	e.checkAPI()
}
