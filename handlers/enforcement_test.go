package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

// rulesetEvent is a repository_ruleset (or branch_protection_rule) delivery as GitHub
// shapes it, with the fields escapegate reads.
func (e *env) rulesetEvent(event, action string, withRepo bool) []byte {
	doc := map[string]any{
		"action":       action,
		"installation": map[string]any{"id": e.inst},
		"organization": map[string]any{"login": "acme", "id": 1},
		"sender":       map[string]any{"login": "octo-admin", "id": 7, "type": "User"},
	}
	if event == "repository_ruleset" {
		doc["repository_ruleset"] = map[string]any{"id": 42, "name": "protect main", "target": "branch", "source_type": "Repository",
			"source": e.repo.FullName, "enforcement": "active"}
	} else {
		doc["rule"] = map[string]any{"id": 9, "name": "main", "repository_id": e.repo.ID}
	}
	if withRepo {
		doc["repository"] = map[string]any{"id": e.repo.ID, "name": "app", "full_name": e.repo.FullName,
			"default_branch": "main", "owner": map[string]any{"login": "acme", "id": 1}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) enforcement() *store.Enforcement {
	e.t.Helper()
	rp, err := e.h.Store.GetRepository(e.ctx, e.repo.FullName)
	if err != nil {
		e.t.Fatal(err)
	}
	return rp.Enforcement
}

// TestEnforcementFollowsRulesAndProtection: whether the escapegate check is required is
// read from GitHub's rulesets and classic branch protection when either changes.
func TestEnforcementFollowsRulesAndProtection(t *testing.T) {
	tests := []struct {
		name         string
		event        string
		withRepo     bool
		require      []fakegithub.Requirement
		wantRequired bool
		wantVia      string
		wantOther    bool
	}{
		{name: "nothing requires it", event: "repository_ruleset", withRepo: true},
		{name: "a ruleset requires it", event: "repository_ruleset", withRepo: true,
			require: []fakegithub.Requirement{{Context: "escapegate", Ruleset: "protect main"}}, wantRequired: true, wantVia: "ruleset"},
		{name: "classic protection requires it", event: "branch_protection_rule", withRepo: true,
			require: []fakegithub.Requirement{{Context: "ci/build"}, {Context: "escapegate"}}, wantRequired: true, wantVia: "branch protection"},
		{name: "required from this app", event: "branch_protection_rule", withRepo: true,
			// The fake GitHub's app is this one (id 1).
			require: []fakegithub.Requirement{{Context: "escapegate", AppID: 1}}, wantRequired: true, wantVia: "branch protection"},
		{name: "required from another app", event: "repository_ruleset", withRepo: true,
			require: []fakegithub.Requirement{{Context: "escapegate", AppID: 999, Ruleset: "other"}}, wantOther: true},
		{name: "other checks only", event: "branch_protection_rule", withRepo: true,
			require: []fakegithub.Requirement{{Context: "ci/build"}}},
		{name: "an organization ruleset names no repository", event: "repository_ruleset",
			require: []fakegithub.Requirement{{Context: "escapegate", Ruleset: "org baseline"}}, wantRequired: true, wantVia: "ruleset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo}, "octo-admin"))
			if got := e.enforcement(); got == nil || got.Required {
				t.Fatalf("enforcement read at install = %+v, want not required", got)
			}
			for _, r := range tc.require {
				e.h.GitHub.RequireCheck(e.repo.FullName, "main", r)
			}
			e.send(tc.event, e.rulesetEvent(tc.event, "edited", tc.withRepo))
			got := e.enforcement()
			if got == nil {
				t.Fatal("enforcement not recorded")
			}
			if got.Required != tc.wantRequired || got.OtherApp != tc.wantOther || strings.Join(got.Branches, ",") != "main" {
				t.Fatalf("enforcement = %+v", got)
			}
			if tc.wantVia != "" && (len(got.Via) != 1 || !strings.HasPrefix(got.Via[0], tc.wantVia)) {
				t.Fatalf("via = %q, want %s", got.Via, tc.wantVia)
			}
			if !tc.wantRequired && strings.Join(got.Missing, ",") != "main" {
				t.Fatalf("missing = %q", got.Missing)
			}
			e.checkAPI()
		})
	}
}

// TestAdvisoryEscapeNamesTheMissingRequirement: a failing PR merged where the check is not
// required is an advisory escape that says so, and the report and the monthly summary
// show the repository as advisory-only; once a ruleset requires the check, they say so.
func TestAdvisoryEscapeNamesTheMissingRequirement(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "a1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("check = %s", run.Conclusion)
	}
	e.merge(pr, "alice")
	esc := e.escapes()
	if len(esc) != 1 || esc[0].Kind != store.EscapeAdvisory {
		t.Fatalf("escapes = %+v", esc)
	}
	if want := `not required on main: no ruleset or branch protection requires the "escapegate" check`; esc[0].Enforcement != want {
		t.Fatalf("advisory escape says %q, want %q", esc[0].Enforcement, want)
	}
	rep, err := escaperate.Compute(e.ctx, e.h.Store, e.repo.FullName, time.Now(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if text := render.Text(rep); !strings.Contains(text, "enforcement: not required on main") {
		t.Fatalf("report text does not say the check is advisory:\n%s", text)
	}
	js, err := render.JSON(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Enforcement struct {
			Required bool     `json:"required"`
			Missing  []string `json:"missing"`
		} `json:"enforcement"`
		Escapes []struct {
			Enforcement string `json:"enforcement"`
		} `json:"escapes"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Enforcement.Required || strings.Join(doc.Enforcement.Missing, ",") != "main" || len(doc.Escapes) != 1 || doc.Escapes[0].Enforcement == "" {
		t.Fatalf("report JSON: %s", js)
	}
	if c := render.ReleaseComment(rep, esc, ""); !strings.Contains(c, "The `escapegate` check is not required on `main`") ||
		!strings.Contains(c, "merged while the check failed (not required on main") {
		t.Fatalf("release comment does not say the check is advisory:\n%s", c)
	}
	month, err := escaperate.OrgMonth(e.ctx, e.h.Store, e.inst, time.Now(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, body := render.MonthlySummary(month); !strings.Contains(body, "enforced on 0 of 1 repositories; advisory on: "+e.repo.FullName) {
		t.Fatalf("monthly summary does not show coverage:\n%s", body)
	}

	e.h.GitHub.RequireCheck(e.repo.FullName, "main", fakegithub.Requirement{Context: "escapegate", Ruleset: "protect main"})
	e.send("repository_ruleset", e.rulesetEvent("repository_ruleset", "created", true))
	month, err = escaperate.OrgMonth(e.ctx, e.h.Store, e.inst, time.Now(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, body := render.MonthlySummary(month); !strings.Contains(body, "enforced on 1 of 1 repositories") {
		t.Fatalf("monthly summary after the ruleset:\n%s", body)
	}
	e.checkAPI()
}

// TestOrgRulesetRefreshResumes: an organization ruleset re-reads every repository of the
// installation; when one repository cannot be read, a retry of the same delivery reads
// only the repositories not read since the first attempt began, and once it succeeds
// the next delivery reads them all again.
func TestOrgRulesetRefreshResumes(t *testing.T) {
	e := newEnv(t)
	repos := []events.Repo{e.repo, {ID: 43, FullName: "acme/api", DefaultBranch: "main"}, {ID: 44, FullName: "acme/web", DefaultBranch: "main"}}
	for _, r := range repos[1:] {
		e.h.GitHub.AddRepo(r.FullName, "main")
	}
	e.h.GitHub.AddInstallation(e.inst, "acme/app", "acme/.github", "acme/api", "acme/web")
	e.send("installation", events.InstallationCreated(e.inst, "acme", repos, "octo-admin"))
	rulesRead := func() map[string]int {
		n := map[string]int{}
		for _, r := range e.h.GitHub.Requests() {
			for _, rp := range repos {
				if strings.Contains(r.Path, "/repos/"+rp.FullName+"/rules/branches/") {
					n[rp.FullName]++
				}
			}
		}
		return n
	}
	g := e.h.Server.Gate()
	e.h.GitHub.ResetRequests()
	e.h.GitHub.InjectFault(fakegithub.Fault{Path: "/repos/acme/api/rules/branches/", Kind: fakegithub.ServerError, Times: 100})
	_, err := g.RefreshEnforcementAfterChange(e.ctx, e.inst, "d-org-1", 0)
	if err == nil {
		t.Fatal("a repository that cannot be read must fail the delivery")
	}
	first := rulesRead()
	if first["acme/app"] != 1 || first["acme/web"] != 1 || first["acme/api"] == 0 {
		t.Fatalf("first attempt read %v", first)
	}
	e.h.GitHub.ClearFaults()
	e.h.GitHub.ResetRequests()
	if n, err := g.RefreshEnforcementAfterChange(e.ctx, e.inst, "d-org-1", 0); err != nil || n != 1 {
		t.Fatalf("retry: %d read, %v; want 1 (acme/api)", n, err)
	}
	if got := rulesRead(); got["acme/app"] != 0 || got["acme/web"] != 0 || got["acme/api"] != 1 {
		t.Fatalf("the retry read %v, want acme/api alone", got)
	}
	e.h.GitHub.ResetRequests()
	if n, err := g.RefreshEnforcementAfterChange(e.ctx, e.inst, "d-org-2", 0); err != nil || n != 3 {
		t.Fatalf("a new delivery: %d read, %v; want all 3", n, err)
	}
}
