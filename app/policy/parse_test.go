package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

func TestDefaultMatchesDesign(t *testing.T) {
	d := Default()
	tests := []struct {
		name      string
		got, want any
	}{
		{"fail_on", d.FailOn, checks.SeverityHigh},
		{"override.label", d.Override.Label, "escapegate/accept-risk"},
		{"override.reasons", d.Override.Reasons, map[string]string{
			"escapegate/false-positive": "false_positive",
			"escapegate/used-in-tests":  "used_in_tests",
			"escapegate/fix-later":      "fix_later",
		}},
		{"override.approvers.teams", len(d.Override.Approvers.Teams), 0},
		{"override.approvers.permission", d.Override.Approvers.Permission, "admin"},
		{"override.allow_author", d.Override.AllowAuthor, false},
		{"override.expires_after_days", d.Override.ExpiresAfterDays, 30},
		{"production.trigger", d.Production.Trigger, "merge"},
		{"production.branches", len(d.Production.Branches), 0},
		{"production.environments", d.Production.Environments, []string{"production"}},
		{"release.base_branches", d.Release.BaseBranches, []string{"release/*"}},
		{"release.head_branches", d.Release.HeadBranches, []string{"release-please--*", "changeset-release/*"}},
		{"release.labels", d.Release.Labels, []string{"release", "autorelease: pending"}},
		{"release.title_pattern", d.Release.TitlePattern, ""},
		{"escape_rate.severity", d.EscapeRate.Severity, checks.SeverityCritical},
		{"escape_rate.window_days", d.EscapeRate.WindowDays, 90},
		{"summary.repository", d.Summary.Repository, ""},
		{"secrets.rules_file", d.Secrets.RulesFile, ""},
		{"secrets.allow_inline_suppressions", d.Secrets.AllowInlineSuppressions, false},
		{"secrets.revoke_github_tokens", d.Secrets.RevokeGitHubTokens, false},
		{"unscanned", d.Unscanned, "fail"},
		{"allow_repo_overrides", d.AllowRepoOverrides, false},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
	// Every leaf of the schema is checked above.
	if len(tests) != len(schema) {
		t.Errorf("%d defaults checked, schema has %d keys", len(tests), len(schema))
	}
}

// The design's own example file, with its comments, parses to the defaults.
const designExample = `fail_on: high                    # lowest severity that fails the check
override:
  label: escapegate/accept-risk  # the override label
  reasons:
    escapegate/false-positive: false_positive
    escapegate/used-in-tests: used_in_tests
    escapegate/fix-later: fix_later
  approvers:
    teams: []
    permission: admin
  allow_author: false
  expires_after_days: 30
production:
  trigger: merge
  branches: []
  environments: [production]
release:
  base_branches: ["release/*"]
  head_branches: ["release-please--*", "changeset-release/*"]
  labels: ["release", "autorelease: pending"]
  title_pattern: ""
escape_rate:
  severity: critical
  window_days: 90
summary:
  repository: ""
secrets:
  rules_file: ""
  allow_inline_suppressions: false
  revoke_github_tokens: false    # escapegate's own key (not in DESIGN's example): opt-in revocation
unscanned: fail                  # a changed file that cannot be read fails the check
allow_repo_overrides: false      # org file only
`

func TestParseDesignExampleIsDefault(t *testing.T) {
	p, err := ParseFile(OrgFile, []byte(designExample), true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Policy, Default()) {
		t.Errorf("design example = %+v, want defaults %+v", p.Policy, Default())
	}
	if len(p.Set) != len(schema) {
		t.Errorf("design example set %d keys, want all %d", len(p.Set), len(schema))
	}
}

func TestParsePartialKeepsDefaults(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    func(p *Policy)
		wantSet []string
	}{
		{"empty file", "", func(*Policy) {}, nil},
		{"comments only", "# nothing yet\n", func(*Policy) {}, nil},
		{"empty section", "override:\n", func(*Policy) {}, nil},
		{"fail_on only", "fail_on: medium\n", func(p *Policy) { p.FailOn = checks.SeverityMedium }, []string{"fail_on"}},
		{"severity case-insensitive", "fail_on: Critical\n", func(p *Policy) { p.FailOn = checks.SeverityCritical }, []string{"fail_on"}},
		{"nested key only", "override:\n  approvers:\n    teams: [security]\n",
			func(p *Policy) { p.Override.Approvers.Teams = []string{"security"} }, []string{"override.approvers.teams"}},
		{"null list is empty", "production:\n  environments:\n  trigger: merge\n",
			func(p *Policy) { p.Production.Environments = []string{} }, []string{"production.environments", "production.trigger"}},
		{"anchors", "release:\n  labels: &l [ship]\nproduction:\n  environments: *l\n",
			func(p *Policy) { p.Release.Labels = []string{"ship"}; p.Production.Environments = []string{"ship"} },
			[]string{"release.labels", "production.environments"}},
		{"reasons replaced whole", "override:\n  reasons:\n    risk/ok: accepted\n",
			func(p *Policy) { p.Override.Reasons = map[string]string{"risk/ok": "accepted"} }, []string{"override.reasons"}},
		{"teams only approval", "override:\n  approvers:\n    permission: \"\"\n    teams: [sec-leads, platform_ops]\n",
			func(p *Policy) {
				p.Override.Approvers.Permission = ""
				p.Override.Approvers.Teams = []string{"sec-leads", "platform_ops"}
			}, []string{"override.approvers.permission", "override.approvers.teams"}},
		{"deployment trigger keeps default environments", "production:\n  trigger: deployment\n",
			func(p *Policy) { p.Production.Trigger = TriggerDeployment }, []string{"production.trigger"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFile(RepoFile, []byte(tt.yaml), false)
			if err != nil {
				t.Fatal(err)
			}
			want := Default()
			tt.want(&want)
			if !reflect.DeepEqual(got.Policy, want) {
				t.Errorf("policy = %+v\nwant     %+v", got.Policy, want)
			}
			if len(got.Set) != len(tt.wantSet) {
				t.Errorf("set keys %v, want %v", got.Set, tt.wantSet)
			}
			for _, k := range tt.wantSet {
				if _, ok := got.Set[k]; !ok {
					t.Errorf("key %s not recorded as set (%v)", k, got.Set)
				}
			}
		})
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		org    bool
		line   int
		reason string // a part of the reason
	}{
		{"unknown top key", "fail_on: high\noverride:\n  label: x\nfial_on: low\n", false, 4, "unknown key `fial_on` (did you mean `fail_on`?)"},
		{"unknown nested key", "override:\n  approvers:\n    team: [a]\n", false, 3, "unknown key `override.approvers.team` (did you mean `override.approvers.teams`?)"},
		{"unknown far key", "colour: blue\n", false, 1, "unknown key `colour`"},
		{"bad severity", "\n\nfail_on: severe\n", false, 3, `"severe" is not a severity`},
		{"bad escape severity", "escape_rate:\n  severity: urgent\n", false, 2, "`escape_rate.severity`"},
		{"bad trigger", "production:\n  trigger: tag\n", false, 2, `"tag" is not one of "merge", "release", "deployment"`},
		{"bad permission", "override:\n  approvers:\n    permission: write\n", false, 3, `"write" is not one of "admin", "maintain", ""`},
		{"bad regex", "release:\n  title_pattern: \"chore(release\"\n", false, 2, "not a valid regular expression"},
		{"bad glob", "release:\n  base_branches: [\"release/[\"]\n", false, 2, "not a valid glob"},
		{"empty glob", "production:\n  branches: [\"\"]\n", false, 2, "cannot be empty"},
		{"zero days", "override:\n  expires_after_days: 0\n", false, 2, "not a number of days"},
		{"negative window", "escape_rate:\n  window_days: -5\n", false, 2, "not a number of days"},
		{"days not a number", "override:\n  expires_after_days: soon\n", false, 2, `"soon" is not a whole number`},
		{"bool not a bool", "override:\n  allow_author: maybe\n", false, 2, "not true or false"},
		{"team slug upper case", "override:\n  approvers:\n    teams: [Security]\n", false, 3, "not a team slug"},
		{"team slug with org", "override:\n  approvers:\n    teams: [\"acme/security\"]\n", false, 3, "not a team slug"},
		{"list given a scalar", "release:\n  labels: release\n", false, 2, "want a list"},
		{"scalar given a list", "fail_on: [high]\n", false, 1, "want a single value"},
		{"no value", "fail_on:\n", false, 1, "has no value"},
		{"section given a scalar", "override: yes\n", false, 1, "`override` must be a mapping"},
		{"label too long", "override:\n  label: " + strings.Repeat("x", 51) + "\n", false, 2, "longer than GitHub's 50"},
		{"reason not an identifier", "override:\n  reasons:\n    risk/ok: Fix Later\n", false, 3, "must be lower case"},
		{"reason label is the override label", "override:\n  label: ok\n  reasons:\n    ok: fix_later\n", false, 3, "is the override label itself"},
		{"summary with owner", "summary:\n  repository: acme/security\n", true, 2, "without the owner"},
		{"rules file outside", "secrets:\n  rules_file: ../x.toml\n", true, 2, "inside the org's `.github` repository"},
		{"rules file not toml", "secrets:\n  rules_file: rules.yml\n", true, 2, "`.toml`"},
		{"duplicate key", "fail_on: high\nfail_on: low\n", false, 2, "duplicate key `fail_on`"},
		{"duplicate label", "release:\n  labels: [Release, release]\n", false, 2, "listed twice"},
		{"deployment without environments", "production:\n  trigger: deployment\n  environments: []\n", false, 3, "needs at least one environment"},
		{"org-only key in repo file", "fail_on: high\nallow_repo_overrides: true\n", false, 2, "only valid in the org policy"},
		{"yaml syntax", "fail_on: high\noverride:\n  label: x\n   bad: y\n", false, 4, "invalid YAML"},
		{"tab indentation", "override:\n\tlabel: x\n", false, 2, "invalid YAML"},
		{"not a mapping", "- fail_on: high\n", false, 1, "must be a mapping of keys"},
		{"two documents", "fail_on: high\n---\nfail_on: low\n", false, 2, "one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(RepoFile, []byte(tt.yaml), tt.org)
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("err = %v, want policy.Errors", err)
			}
			e := es[0]
			if e.File != RepoFile || e.Line != tt.line || !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("got %q (file %s line %d), want line %d with %q", e.Error(), e.File, e.Line, tt.line, tt.reason)
			}
			if !strings.HasPrefix(e.Error(), "`.github/escapegate.yml` line ") {
				t.Errorf("message %q does not name the file and line", e.Error())
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := Parse(RepoFile, []byte("fial_on: low\noverride:\n  expires_after_days: 0\nrelease:\n  lables: []\n"), false)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v", err)
	}
	var lines []int
	for _, e := range es {
		lines = append(lines, e.Line)
	}
	if !reflect.DeepEqual(lines, []int{1, 3, 5}) {
		t.Errorf("error lines %v, want [1 3 5]; errors:\n%v", lines, es)
	}
	want := "`.github/escapegate.yml` line 1: unknown key `fial_on` (did you mean `fail_on`?)"
	if got := strings.Split(es.Error(), "\n")[0]; got != want {
		t.Errorf("first error %q, want %q", got, want)
	}
}

func TestParseOrgFileMayAllowOverrides(t *testing.T) {
	p, err := Parse(OrgFile, []byte("allow_repo_overrides: true\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	if !p.AllowRepoOverrides {
		t.Error("allow_repo_overrides not read from the org file")
	}
}

func TestValidateDecidesOrgByName(t *testing.T) {
	data := []byte("allow_repo_overrides: true\n")
	tests := []struct {
		file    string
		wantErr bool
	}{
		{"escapegate.yml", false},
		{"org/.github-repo/escapegate.yml", false},
		{".github/escapegate.yml", true},
		{"/src/widget/.github/escapegate.yml", true},
		{`C:\src\widget\.github\escapegate.yml`, true},
	}
	for _, tt := range tests {
		err := Validate(tt.file, data)
		if (err != nil) != tt.wantErr {
			t.Errorf("Validate(%s) = %v, want error %v", tt.file, err, tt.wantErr)
		}
	}
}

func TestParsedApplyCopiesOnlySetKeys(t *testing.T) {
	org := Default()
	org.FailOn = checks.SeverityLow
	org.Override.Approvers.Teams = []string{"security"}
	p, err := ParseFile(RepoFile, []byte("override:\n  expires_after_days: 7\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Apply(org)
	if got.FailOn != checks.SeverityLow || got.Override.ExpiresAfterDays != 7 || got.Override.Approvers.Teams[0] != "security" {
		t.Errorf("Apply = %+v", got)
	}
	got.Override.Approvers.Teams[0] = "changed"
	if org.Override.Approvers.Teams[0] != "security" {
		t.Error("Apply shares a slice with its base")
	}
}
