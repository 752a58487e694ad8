package policy

import (
	"testing"
)

func TestIsReleasePR(t *testing.T) {
	def := Default()
	withTitle := Default()
	withTitle.Release.TitlePattern = `^chore(\(.*\))?: release`
	tests := []struct {
		name        string
		p           Policy
		base, head  string
		labels      []string
		title       string
		wantRelease bool
	}{
		{"release-please head", def, "main", "release-please--branches--main", nil, "chore(main): release 1.2.0", true},
		{"release-please component head", def, "main", "release-please--branches--main--components--api", nil, "", true},
		{"release-please on a slashed branch", def, "release/1.x", "release-please--branches--release/1.x", nil, "", true},
		{"changesets head", def, "main", "changeset-release/main", nil, "Version Packages", true},
		{"release base", def, "release/2.0", "fix-bug", nil, "Fix bug", true},
		{"label", def, "main", "feature", []string{"bug", "release"}, "", true},
		{"label with space and colon", def, "main", "feature", []string{"autorelease: pending"}, "", true},
		{"label case-insensitive", def, "main", "feature", []string{"Release"}, "", true},
		{"ordinary PR", def, "main", "feature/release-notes", []string{"docs"}, "Release notes typo", false},
		{"prefix is not a match", def, "main", "my-release-please--x", nil, "", false},
		{"base releases is not release/*", def, "releases", "x", nil, "", false},
		{"title pattern", withTitle, "main", "prep", nil, "chore(main): release 3.0.0", true},
		{"title pattern unused by default", def, "main", "prep", nil, "chore(main): release 3.0.0", false},
		{"title pattern no match", withTitle, "main", "prep", nil, "feat: releases page", false},
		{"empty head", def, "", "", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.IsReleasePR(tt.base, tt.head, tt.labels, tt.title); got != tt.wantRelease {
				t.Errorf("IsReleasePR(%q, %q, %v, %q) = %v", tt.base, tt.head, tt.labels, tt.title, got)
			}
		})
	}
}

func TestIsProductionBranch(t *testing.T) {
	def := Default()
	listed := Default()
	listed.Production.Branches = []string{"prod", "release/*"}
	merged, _ := Merge(Default(), &Parsed{File: RepoFile, Policy: listed, Set: map[string]Pos{"production.branches": {Line: 1}}})
	tests := []struct {
		name           string
		p              Policy
		branch, defBr  string
		wantProduction bool
	}{
		{"default branch by default", def, "main", "main", true},
		{"other branch by default", def, "develop", "main", false},
		{"empty branch", def, "", "", false},
		{"listed branch", listed, "prod", "main", true},
		{"listed glob", listed, "release/1.2", "main", true},
		{"default branch not listed", listed, "main", "main", false},
		{"repo additions keep the default branch", merged, "main", "main", true},
		{"repo additions apply", merged, "release/9", "main", true},
		{"repo additions do not match others", merged, "feature", "main", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.IsProductionBranch(tt.branch, tt.defBr); got != tt.wantProduction {
				t.Errorf("IsProductionBranch(%q, %q) = %v", tt.branch, tt.defBr, got)
			}
		})
	}
}

func TestReasonForLabels(t *testing.T) {
	p := Default()
	tests := []struct {
		labels []string
		want   string
	}{
		{nil, ""},
		{[]string{"escapegate/accept-risk"}, ""},
		{[]string{"escapegate/accept-risk", "escapegate/used-in-tests"}, "used_in_tests"},
		{[]string{"Escapegate/Fix-Later"}, "fix_later"},
		{[]string{"escapegate/false-positive", "escapegate/fix-later"}, "false_positive"},
	}
	for _, tt := range tests {
		if got := p.ReasonForLabels(tt.labels); got != tt.want {
			t.Errorf("ReasonForLabels(%v) = %q, want %q", tt.labels, got, tt.want)
		}
	}
}

func TestIsPolicyPath(t *testing.T) {
	tests := []struct {
		repo, path string
		want       bool
	}{
		{"widget", ".github/escapegate.yml", true},
		{"widget", "escapegate.yml", false},
		{".github", "escapegate.yml", true},
		{".GitHub", "escapegate.yml", true},
		{".github", ".github/escapegate.yml", true},
		{"widget", ".github/escapegate.yaml", false},
		{"widget", "docs/.github/escapegate.yml", false},
	}
	for _, tt := range tests {
		if got := IsPolicyPath(tt.repo, tt.path); got != tt.want {
			t.Errorf("IsPolicyPath(%q, %q) = %v", tt.repo, tt.path, got)
		}
	}
}

func TestBranchGlobSyntax(t *testing.T) {
	tests := []struct {
		glob, branch string
		want         bool
	}{
		{"release/*", "release/1.x/hotfix", true},
		{"{main,prod}", "prod", true},
		{"{main,prod}", "staging", false},
		{"release/[!x]*", "release/1", true},
		{"release/[!x]*", "release/x1", false},
		{"v?", "v1", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"Main", "main", false},
	}
	for _, tt := range tests {
		if got := matchAny([]string{tt.glob}, tt.branch); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v", tt.glob, tt.branch, got, tt.want)
		}
	}
}
