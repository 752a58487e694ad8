package policy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

func mustParse(t *testing.T, file, data string, org bool) *Parsed {
	t.Helper()
	p, err := ParseFile(file, []byte(data), org)
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	return p
}

const orgYAML = `fail_on: high
override:
  approvers:
    teams: [security]
    permission: admin
  allow_author: true
  expires_after_days: 14
release:
  title_pattern: "^chore\\(release\\)"
secrets:
  rules_file: escapegate/rules.toml
summary:
  repository: security-reports
`

func TestMergeTighteningIsHonoured(t *testing.T) {
	org := mustParse(t, OrgFile, orgYAML, true).Apply(Default())
	tests := []struct {
		name string
		repo string
		want func(p *Policy)
	}{
		{"lower fail_on", "fail_on: low\n", func(p *Policy) { p.FailOn = checks.SeverityLow }},
		{"same fail_on", "fail_on: high\n", func(p *Policy) {}},
		{"shorter expiry", "override:\n  expires_after_days: 3\n", func(p *Policy) { p.Override.ExpiresAfterDays = 3 }},
		{"no self-approval", "override:\n  allow_author: false\n", func(p *Policy) { p.Override.AllowAuthor = false }},
		{"no inline suppressions", "secrets:\n  allow_inline_suppressions: false\n", func(p *Policy) {}},
		{"lower escape severity", "escape_rate:\n  severity: high\n", func(p *Policy) { p.EscapeRate.Severity = checks.SeverityHigh }},
		{"org-owned key repeated", "override:\n  approvers:\n    teams: [security]\n", func(p *Policy) {}},
		{"release patterns added", "release:\n  head_branches: [\"bump/*\"]\n  labels: [ship, release]\n  base_branches: []\n",
			func(p *Policy) {
				p.Release.HeadBranches = []string{"release-please--*", "changeset-release/*", "bump/*"}
				p.Release.Labels = []string{"release", "autorelease: pending", "ship"}
			}},
		{"title pattern or-ed", "release:\n  title_pattern: \"^Release v\"\n",
			func(p *Policy) { p.Release.TitlePattern = `(?:^chore\(release\))|(?:^Release v)` }},
		{"environments added", "production:\n  environments: [prod-eu]\n",
			func(p *Policy) { p.Production.Environments = []string{"production", "prod-eu"} }},
		{"production branches added keep the default branch", "production:\n  branches: [\"hotfix/*\"]\n",
			func(p *Policy) {
				p.Production.Branches = []string{"hotfix/*"}
				p.Production.AlsoDefaultBranch = true
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refused := Merge(org, mustParse(t, RepoFile, tt.repo, false))
			if len(refused) != 0 {
				t.Fatalf("refused: %v", refused)
			}
			want := clonePolicy(org)
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("merged = %+v\nwant     %+v", got, want)
			}
		})
	}
}

func TestMergeLooseningIsRefused(t *testing.T) {
	org := mustParse(t, OrgFile, orgYAML, true).Apply(Default())
	org.Override.AllowAuthor = false
	org.EscapeRate.Severity = checks.SeverityHigh
	tests := []struct {
		name, repo, key string
		line            int
		reason          string
	}{
		{"higher fail_on", "fail_on: critical\n", "fail_on", 1, "`fail_on: critical` would loosen the org policy's `fail_on: high`"},
		{"higher escape severity", "\nescape_rate:\n  severity: critical\n", "escape_rate.severity", 3, "would loosen"},
		{"longer expiry", "override:\n  expires_after_days: 90\n", "override.expires_after_days", 2, "14 or fewer"},
		{"self-approval", "override:\n  allow_author: true\n", "override.allow_author", 2, "`override.allow_author: true` would loosen"},
		{"inline suppressions", "secrets:\n  allow_inline_suppressions: true\n", "secrets.allow_inline_suppressions", 2, "would loosen"},
		{"approver teams", "override:\n  approvers:\n    teams: [security, devs]\n", "override.approvers.teams", 3,
			"`override.approvers.teams` is set by the org policy; a repository may only tighten it"},
		{"approver permission", "override:\n  approvers:\n    permission: maintain\n", "override.approvers.permission", 3, "org-owned"},
		{"override label", "override:\n  label: ok-to-merge\n", "override.label", 2, "org-owned"},
		{"override reasons", "override:\n  reasons:\n    whatever: fix_later\n", "override.reasons", 2, "org-owned"},
		{"production trigger", "production:\n  trigger: release\n", "production.trigger", 2, "org-owned"},
		{"escape window", "escape_rate:\n  window_days: 7\n", "escape_rate.window_days", 2, "org-owned"},
		{"summary repository", "summary:\n  repository: mine\n", "summary.repository", 2, "org-owned"},
		{"rules file", "secrets:\n  rules_file: other.toml\n", "secrets.rules_file", 2, "org-owned"},
		{"unscanned neutral", "unscanned: neutral\n", "unscanned", 1, "`unscanned: neutral` would loosen the org policy's `unscanned: fail`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, refused := Merge(org, mustParse(t, RepoFile, tt.repo, false))
			if len(refused) != 1 {
				t.Fatalf("refusals %v, want one", refused)
			}
			r := refused[0]
			if r.Key != tt.key || r.Line != tt.line || r.File != RepoFile || !strings.Contains(r.Reason, tt.reason) {
				t.Errorf("refusal %+v, want key %s line %d with %q", r, tt.key, tt.line, tt.reason)
			}
			if !reflect.DeepEqual(got, org) {
				t.Errorf("a refused key changed the policy: %+v", got)
			}
		})
	}
}

// unscanned: a repository may make unreadable files fail where the org lets them be
// neutral, never the other way round.
func TestMergeUnscanned(t *testing.T) {
	org := mustParse(t, OrgFile, "unscanned: neutral\n", true).Apply(Default())
	if org.Unscanned != UnscannedNeutral {
		t.Fatalf("org unscanned = %q", org.Unscanned)
	}
	got, refused := Merge(org, mustParse(t, RepoFile, "unscanned: fail\n", false))
	if len(refused) != 0 || got.Unscanned != UnscannedFail {
		t.Errorf("neutral→fail: %q, refused %v", got.Unscanned, refused)
	}
	got, refused = Merge(org, mustParse(t, RepoFile, "unscanned: neutral\n", false))
	if len(refused) != 0 || got.Unscanned != UnscannedNeutral {
		t.Errorf("neutral→neutral: %q, refused %v", got.Unscanned, refused)
	}
	if _, err := ParseFile(RepoFile, []byte("unscanned: skip\n"), false); err == nil || !strings.Contains(err.Error(), `"skip" is not one of "fail", "neutral"`) {
		t.Errorf("bad value: %v", err)
	}
}

func TestMergeKeepsTighteningBesideRefusal(t *testing.T) {
	org := Default()
	got, refused := Merge(org, mustParse(t, RepoFile, "fail_on: medium\noverride:\n  expires_after_days: 60\n", false))
	if len(refused) != 1 || refused[0].Key != "override.expires_after_days" {
		t.Fatalf("refusals %v", refused)
	}
	if got.FailOn != checks.SeverityMedium || got.Override.ExpiresAfterDays != 30 {
		t.Errorf("merged fail_on %s expiry %d, want medium and 30", got.FailOn, got.Override.ExpiresAfterDays)
	}
}

func TestMergeAllowRepoOverrides(t *testing.T) {
	org := mustParse(t, OrgFile, orgYAML+"allow_repo_overrides: true\n", true).Apply(Default())
	repo := mustParse(t, RepoFile, `fail_on: critical
override:
  approvers:
    teams: [widget-owners]
  expires_after_days: 60
production:
  branches: [main, "release/*"]
release:
  labels: [ship]
`, false)
	got, refused := Merge(org, repo)
	if len(refused) != 0 {
		t.Fatalf("refused with allow_repo_overrides: %v", refused)
	}
	want := clonePolicy(org)
	want.FailOn = checks.SeverityCritical
	want.Override.Approvers.Teams = []string{"widget-owners"}
	want.Override.ExpiresAfterDays = 60
	want.Production.Branches = []string{"main", "release/*"}
	want.Release.Labels = []string{"ship"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged = %+v\nwant     %+v", got, want)
	}
}

func TestMergeNilRepoIsOrg(t *testing.T) {
	org := mustParse(t, OrgFile, orgYAML, true).Apply(Default())
	got, refused := Merge(org, nil)
	if refused != nil || !reflect.DeepEqual(got, org) {
		t.Errorf("Merge(org, nil) = %+v, %v", got, refused)
	}
}

func TestValidateChangedReportsRefusals(t *testing.T) {
	l := NewLoader(nil, nil)
	org := Default()
	tests := []struct {
		name, path, data string
		want             []string
	}{
		{"valid tightening", RepoFile, "fail_on: low\n", nil},
		{"loosening", RepoFile, "fail_on: medium\noverride:\n  allow_author: true\n", []string{"line 3: `override.allow_author: true` would loosen"}},
		{"broken", RepoFile, "fail_on: hgih\n", []string{"line 1: `fail_on`: \"hgih\" is not a severity"}},
		{"org file may set anything", OrgFile, "allow_repo_overrides: true\nfail_on: critical\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := l.ValidateChanged(tt.path, []byte(tt.data), org)
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %v, want %v", errs, tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %q, want %q", errs[i].Error(), w)
				}
			}
		})
	}
}

// The examples of docs/policy.md behave as the docs say.
func TestDocsExamples(t *testing.T) {
	org := mustParse(t, OrgFile, `fail_on: medium
override:
  approvers:
    teams: [security, appsec-leads]
    permission: ""
  expires_after_days: 14
production:
  trigger: deployment
  environments: [production, production-eu]
summary:
  repository: security-reports
secrets:
  rules_file: escapegate/rules.toml
`, true).Apply(Default())

	tight, refused := Merge(org, mustParse(t, RepoFile, `fail_on: low
override:
  expires_after_days: 3
production:
  environments: [payments-prod]
release:
  head_branches: ["bump-version/*"]
  title_pattern: "^Release v[0-9]"
`, false))
	if len(refused) != 0 {
		t.Errorf("tightening example refused: %v", refused)
	}
	if tight.FailOn != checks.SeverityLow || tight.Override.ExpiresAfterDays != 3 ||
		!reflect.DeepEqual(tight.Production.Environments, []string{"production", "production-eu", "payments-prod"}) ||
		!tight.IsReleasePR("main", "bump-version/2", nil, "") || !tight.IsReleasePR("main", "x", nil, "Release v2") {
		t.Errorf("tightening example merged to %+v", tight)
	}

	_, refused = Merge(org, mustParse(t, RepoFile, `fail_on: critical
override:
  approvers:
    teams: [prototype-devs]
  allow_author: true
`, false))
	var keys []string
	for _, r := range refused {
		keys = append(keys, r.Key)
	}
	if want := []string{"fail_on", "override.approvers.teams", "override.allow_author"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("loosening example refused %v, want %v", keys, want)
	}
}
