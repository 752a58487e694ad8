package policy

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// Refusal is a repository file's key that would loosen the org policy, and was
// therefore not applied.
type Refusal struct {
	File   string
	Line   int
	Column int
	Key    string
	Reason string
}

func (r Refusal) String() string {
	return fmt.Sprintf("`%s` line %d: %s", r.File, r.Line, r.Reason)
}

// FileError presents a refusal as a problem of the file, for a PR that changes it.
func (r Refusal) FileError() *FileError {
	return &FileError{File: r.File, Line: r.Line, Column: r.Column, Reason: r.Reason}
}

// Merge applies a repository file to the org policy (Default() with the org file
// applied). A repository may only tighten the org policy: each key follows its
// rule (docs/policy.md); keys that would loosen it are refused, listed, and keep
// the org's value. With the org's allow_repo_overrides every key the repository
// set replaces the org's. A nil repo returns the org policy.
func Merge(org Policy, repo *Parsed) (Policy, []Refusal) {
	out := clonePolicy(org)
	if repo == nil {
		return out, nil
	}
	if org.AllowRepoOverrides {
		for _, f := range schema {
			if _, ok := repo.Set[f.path]; ok && !f.orgOnly {
				f.copy(&out, &repo.Policy)
				if f.path == "production.branches" {
					out.Production.AlsoDefaultBranch = false
				}
			}
		}
		return out, nil
	}
	var refused []Refusal
	for _, f := range schema {
		pos, ok := repo.Set[f.path]
		if !ok {
			continue
		}
		if why := mergeKey(f, &out, &org, &repo.Policy); why != "" {
			refused = append(refused, Refusal{File: repo.File, Line: pos.Line, Column: pos.Column, Key: f.path, Reason: why})
		}
	}
	return out, refused
}

// mergeKey merges one key that the repository set into out, or returns why it is refused.
func mergeKey(f field, out, org, repo *Policy) string {
	orgV, repoV := f.get(org), f.get(repo)
	switch f.rule {
	case ruleLowerSeverity:
		o, r := orgV.(checks.Severity), repoV.(checks.Severity)
		if r.Rank() > o.Rank() {
			return fmt.Sprintf("`%s: %s` would loosen the org policy's `%s: %s`; a repository may only tighten it (a lower severity: %s)",
				f.path, r, f.path, o, lowerSeverities(o))
		}
		f.copy(out, repo)
	case ruleAtMost:
		o, r := orgV.(int), repoV.(int)
		if r > o {
			return fmt.Sprintf("`%s: %d` would loosen the org policy's `%s: %d`; a repository may only tighten it (%d or fewer)",
				f.path, r, f.path, o, o)
		}
		f.copy(out, repo)
	case ruleOnlyFalse:
		o, r := orgV.(bool), repoV.(bool)
		if r && !o {
			return fmt.Sprintf("`%s: true` would loosen the org policy's `%s: false`; a repository may only tighten it", f.path, f.path)
		}
		f.copy(out, repo)
	case ruleFailOnly:
		o, r := orgV.(string), repoV.(string)
		if r != UnscannedFail && o == UnscannedFail {
			return fmt.Sprintf("`%s: %s` would loosen the org policy's `%s: %s`; a repository may only tighten it", f.path, r, f.path, o)
		}
		f.copy(out, repo)
	case ruleUnion, ruleBranchUnion:
		o, r := orgV.([]string), repoV.([]string)
		merged := union(o, r)
		if f.rule == ruleBranchUnion && len(o) == 0 && len(r) > 0 {
			// The org's empty list meant "the default branch": it stays production.
			out.Production.AlsoDefaultBranch = true
		}
		f.set(out, merged)
	case rulePatternUnion:
		o, r := orgV.(string), repoV.(string)
		switch {
		case r == "" || r == o:
		case o == "":
			f.copy(out, repo)
		default:
			f.set(out, "(?:"+o+")|(?:"+r+")")
		}
	case ruleOrgOwned:
		if !sameValue(orgV, repoV) {
			return fmt.Sprintf("`%s` is set by the org policy; a repository may only tighten it, and this key is org-owned (the org's `allow_repo_overrides: true` would allow it)", f.path)
		}
	case ruleOrgFileOnly:
		// Parse already refuses it in a repository file.
	}
	return ""
}

func lowerSeverities(s checks.Severity) string {
	var names []string
	for _, c := range []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow} {
		if c.Rank() <= s.Rank() {
			names = append(names, string(c))
		}
	}
	return strings.Join(names, ", ")
}

// union keeps a's items and adds b's that a lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// sameValue compares two values of one key, an empty list or map equal to a nil one.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []string:
		return slices.Equal(x, b.([]string))
	case map[string]string:
		return maps.Equal(x, b.(map[string]string))
	}
	return a == b
}
