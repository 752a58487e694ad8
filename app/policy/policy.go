// Package policy reads, validates and merges escapegate's policy (DESIGN §4):
// the org file `escapegate.yml` in the org's `.github` repository and the
// repository file `.github/escapegate.yml`, which may only tighten the org's
// policy unless the org sets `allow_repo_overrides: true`. Policy is always
// read from the default branch; the Loader caches it with ETags so that an
// unchanged file costs a 304, which GitHub does not count against the rate limit.
package policy

import (
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
	"github.com/gobwas/glob"
)

// File names of the two policy files.
const (
	// OrgFile is the org policy's path inside the org's OrgRepo repository.
	OrgFile = "escapegate.yml"
	// OrgRepo is the org repository that holds OrgFile.
	OrgRepo = ".github"
	// RepoFile is a repository policy's path inside that repository.
	RepoFile = ".github/escapegate.yml"
)

// Production triggers.
const (
	TriggerMerge      = "merge"
	TriggerRelease    = "release"
	TriggerDeployment = "deployment"
)

// Values of unscanned.
const (
	UnscannedFail    = "fail"
	UnscannedNeutral = "neutral"
)

// Policy is the effective policy of a repository. Its yaml tags are the keys of DESIGN §4.
type Policy struct {
	FailOn     checks.Severity `yaml:"fail_on" json:"fail_on"`
	Override   Override        `yaml:"override" json:"override"`
	Production Production      `yaml:"production" json:"production"`
	Release    Release         `yaml:"release" json:"release"`
	EscapeRate EscapeRate      `yaml:"escape_rate" json:"escape_rate"`
	Summary    Summary         `yaml:"summary" json:"summary"`
	Secrets    Secrets         `yaml:"secrets" json:"secrets"`
	// Unscanned is what a changed file that cannot be read does to the check:
	// UnscannedFail (the default) or UnscannedNeutral.
	Unscanned          string `yaml:"unscanned" json:"unscanned"`
	AllowRepoOverrides bool   `yaml:"allow_repo_overrides" json:"allow_repo_overrides"`
}

// Override configures the override label and who may apply it.
type Override struct {
	Label string `yaml:"label" json:"label"`
	// Reasons maps a reason label to the reason recorded with the exception.
	Reasons          map[string]string `yaml:"reasons" json:"reasons"`
	Approvers        Approvers         `yaml:"approvers" json:"approvers"`
	AllowAuthor      bool              `yaml:"allow_author" json:"allow_author"`
	ExpiresAfterDays int               `yaml:"expires_after_days" json:"expires_after_days"`
}

// Approvers says who may approve an override.
type Approvers struct {
	Teams []string `yaml:"teams" json:"teams"`
	// Permission is admin, maintain, or "" (teams only).
	Permission string `yaml:"permission" json:"permission"`
}

// Production says what counts as reaching production.
type Production struct {
	Trigger      string   `yaml:"trigger" json:"trigger"`
	Branches     []string `yaml:"branches" json:"branches"`
	Environments []string `yaml:"environments" json:"environments"`
	// AlsoDefaultBranch is set by Merge when the org left branches empty (the
	// default branch) and a repository added branches: the default branch stays production.
	AlsoDefaultBranch bool `yaml:"-" json:"also_default_branch,omitempty"`
}

// Release says which pull requests are release PRs.
type Release struct {
	BaseBranches []string `yaml:"base_branches" json:"base_branches"`
	HeadBranches []string `yaml:"head_branches" json:"head_branches"`
	Labels       []string `yaml:"labels" json:"labels"`
	TitlePattern string   `yaml:"title_pattern" json:"title_pattern"`
}

// EscapeRate configures the metric.
type EscapeRate struct {
	Severity   checks.Severity `yaml:"severity" json:"severity"`
	WindowDays int             `yaml:"window_days" json:"window_days"`
}

// Summary configures the monthly summary issue.
type Summary struct {
	Repository string `yaml:"repository" json:"repository"`
}

// Secrets configures the secret detector.
type Secrets struct {
	RulesFile               string `yaml:"rules_file" json:"rules_file"`
	AllowInlineSuppressions bool   `yaml:"allow_inline_suppressions" json:"allow_inline_suppressions"`
	// RevokeGitHubTokens sends a GitHub token that a PR adds to GitHub's credential
	// revocation API (once); org-owned, since it revokes someone's credential.
	RevokeGitHubTokens bool `yaml:"revoke_github_tokens" json:"revoke_github_tokens"`
}

// Default returns the built-in strict defaults of DESIGN §4.
func Default() Policy {
	return Policy{
		FailOn: checks.SeverityHigh,
		Override: Override{
			Label: "escapegate/accept-risk",
			Reasons: map[string]string{
				"escapegate/false-positive": "false_positive",
				"escapegate/used-in-tests":  "used_in_tests",
				"escapegate/fix-later":      "fix_later",
			},
			Approvers:        Approvers{Teams: []string{}, Permission: "admin"},
			ExpiresAfterDays: 30,
		},
		Production: Production{
			Trigger:      TriggerMerge,
			Branches:     []string{},
			Environments: []string{"production"},
		},
		Release: Release{
			BaseBranches: []string{"release/*"},
			HeadBranches: []string{"release-please--*", "changeset-release/*"},
			Labels:       []string{"release", "autorelease: pending"},
		},
		EscapeRate: EscapeRate{Severity: checks.SeverityCritical, WindowDays: 90},
		Unscanned:  UnscannedFail,
	}
}

// IsReleasePR reports whether a pull request is a release PR (DESIGN §3): its base
// matches release.base_branches, or its head release.head_branches, or it has a
// label of release.labels (case-insensitive, as GitHub's labels are), or its title
// matches release.title_pattern. In branch globs `*` also matches `/`, so
// `release-please--*` covers release-please's `release-please--branches--release/1.x`.
func (p Policy) IsReleasePR(base, head string, labels []string, title string) bool {
	if matchAny(p.Release.BaseBranches, base) || matchAny(p.Release.HeadBranches, head) {
		return true
	}
	for _, l := range labels {
		for _, want := range p.Release.Labels {
			if strings.EqualFold(l, want) {
				return true
			}
		}
	}
	if p.Release.TitlePattern != "" {
		// Parse validated the pattern; a policy built by hand with a bad one matches nothing.
		if re, err := regexp.Compile(p.Release.TitlePattern); err == nil && re.MatchString(title) {
			return true
		}
	}
	return false
}

// IsProductionBranch reports whether a merge or push to branch reaches production:
// the default branch when production.branches is empty (or when Merge kept it
// beside a repository's additions), else a branch matching one of its globs.
func (p Policy) IsProductionBranch(branch, defaultBranch string) bool {
	if branch == "" {
		return false
	}
	if len(p.Production.Branches) == 0 || p.Production.AlsoDefaultBranch {
		if branch == defaultBranch {
			return true
		}
	}
	return matchAny(p.Production.Branches, branch)
}

// ReasonForLabels returns the reason of the first label (in the given order) that
// is one of override.reasons, or "" when none is.
func (p Policy) ReasonForLabels(labels []string) string {
	for _, l := range labels {
		for name, reason := range p.Override.Reasons {
			if strings.EqualFold(l, name) {
				return reason
			}
		}
	}
	return ""
}

// IsPolicyPath reports whether path, changed in repository repoName (without
// the owner), is a policy file: `.github/escapegate.yml` anywhere, and the org
// file `escapegate.yml` when the repository is the org's `.github`.
func IsPolicyPath(repoName, path string) bool {
	if path == RepoFile {
		return true
	}
	return path == OrgFile && strings.EqualFold(repoName, OrgRepo)
}

// matchAny reports whether name matches one of the branch globs.
func matchAny(globs []string, name string) bool {
	if name == "" {
		return false
	}
	for _, g := range globs {
		m, err := compileGlob(g)
		if err == nil && m.Match(name) {
			return true
		}
	}
	return false
}

// compileGlob compiles a branch glob with no separator, so `*` crosses `/`.
func compileGlob(pattern string) (glob.Glob, error) {
	return glob.Compile(pattern)
}

// PermissionRank orders repository permissions for override.approvers.permission
// (admin > maintain > write > triage > read); "" and none rank lowest.
func PermissionRank(p string) int {
	switch strings.ToLower(p) {
	case "admin":
		return 5
	case "maintain":
		return 4
	case "write", "push":
		return 3
	case "triage":
		return 2
	case "read", "pull":
		return 1
	}
	return 0
}
