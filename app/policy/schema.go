package policy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/escapegate/escapegate/checks"
	"gopkg.in/yaml.v3"
)

// rule says how a repository file's value of a key combines with the org's (docs/policy.md has the table).
type rule int

const (
	ruleOrgOwned      rule = iota // a repository may only repeat the org's value
	ruleLowerSeverity             // a repository may lower the severity (more findings count)
	ruleAtMost                    // a repository may set a smaller number
	ruleOnlyFalse                 // a repository may switch it off, never on
	ruleUnion                     // a repository's items are added to the org's
	ruleBranchUnion               // ruleUnion that keeps the implicit default branch
	rulePatternUnion              // a repository's regular expression is or-ed with the org's
	ruleOrgFileOnly               // only the org file may set it
	ruleFailOnly                  // a repository may set fail over the org's neutral, never neutral over fail
)

// field is one leaf key of the schema.
type field struct {
	path    string
	orgOnly bool
	rule    rule
	// decode checks the node and sets the value in p, or returns why it cannot.
	decode func(p *Policy, n *yaml.Node) string
	// copy sets dst's value from src's; get returns the value (for Merge).
	copy func(dst, src *Policy)
	get  func(p *Policy) any
	set  func(p *Policy, v any)
}

// sections are the keys that hold further keys.
var sections = map[string]bool{
	"override":           true,
	"override.approvers": true,
	"production":         true,
	"release":            true,
	"escape_rate":        true,
	"summary":            true,
	"secrets":            true,
}

// schema lists every leaf key of DESIGN §4, in file order.
var schema = []field{
	scalar("fail_on", ruleLowerSeverity, func(p *Policy) *checks.Severity { return &p.FailOn }, checkSeverity),
	scalar("override.label", ruleOrgOwned, func(p *Policy) *string { return &p.Override.Label },
		func(v *string) string { return checkLabel(*v) }),
	{
		path: "override.reasons", rule: ruleOrgOwned,
		decode: decodeReasons,
		copy:   func(dst, src *Policy) { dst.Override.Reasons = maps.Clone(src.Override.Reasons) },
		get:    func(p *Policy) any { return p.Override.Reasons },
		set:    func(p *Policy, v any) { p.Override.Reasons = v.(map[string]string) },
	},
	list("override.approvers.teams", ruleOrgOwned, func(p *Policy) *[]string { return &p.Override.Approvers.Teams },
		func(v []string) string {
			return eachItem(v, func(s string) string {
				if !teamSlug.MatchString(s) {
					return fmt.Sprintf("%q is not a team slug (lower case letters, digits, `-` and `_`, as in the team's URL; no org prefix)", s)
				}
				return ""
			})
		}),
	scalar("override.approvers.permission", ruleOrgOwned, func(p *Policy) *string { return &p.Override.Approvers.Permission },
		func(v *string) string { return oneOf(*v, "admin", "maintain", "") }),
	scalar("override.allow_author", ruleOnlyFalse, func(p *Policy) *bool { return &p.Override.AllowAuthor }, nil),
	scalar("override.expires_after_days", ruleAtMost, func(p *Policy) *int { return &p.Override.ExpiresAfterDays },
		func(v *int) string { return checkDays(*v, 365) }),
	scalar("production.trigger", ruleOrgOwned, func(p *Policy) *string { return &p.Production.Trigger },
		func(v *string) string { return oneOf(*v, TriggerMerge, TriggerRelease, TriggerDeployment) }),
	list("production.branches", ruleBranchUnion, func(p *Policy) *[]string { return &p.Production.Branches },
		func(v []string) string { return eachItem(v, checkGlob) }),
	list("production.environments", ruleUnion, func(p *Policy) *[]string { return &p.Production.Environments },
		func(v []string) string {
			return eachItem(v, func(s string) string {
				if strings.TrimSpace(s) == "" {
					return "an environment name cannot be empty"
				}
				return ""
			})
		}),
	list("release.base_branches", ruleUnion, func(p *Policy) *[]string { return &p.Release.BaseBranches },
		func(v []string) string { return eachItem(v, checkGlob) }),
	list("release.head_branches", ruleUnion, func(p *Policy) *[]string { return &p.Release.HeadBranches },
		func(v []string) string { return eachItem(v, checkGlob) }),
	list("release.labels", ruleUnion, func(p *Policy) *[]string { return &p.Release.Labels },
		func(v []string) string {
			if r := eachItem(v, checkLabel); r != "" {
				return r
			}
			return checkDuplicates(v)
		}),
	scalar("release.title_pattern", rulePatternUnion, func(p *Policy) *string { return &p.Release.TitlePattern },
		func(v *string) string {
			if _, err := regexp.Compile(*v); err != nil {
				return fmt.Sprintf("not a valid regular expression: %v", err)
			}
			return ""
		}),
	scalar("escape_rate.severity", ruleLowerSeverity, func(p *Policy) *checks.Severity { return &p.EscapeRate.Severity }, checkSeverity),
	scalar("escape_rate.window_days", ruleOrgOwned, func(p *Policy) *int { return &p.EscapeRate.WindowDays },
		func(v *int) string { return checkDays(*v, 3650) }),
	scalar("summary.repository", ruleOrgOwned, func(p *Policy) *string { return &p.Summary.Repository },
		func(v *string) string {
			if *v != "" && !repoName.MatchString(*v) {
				return fmt.Sprintf("%q is not a repository name of the org (give the name alone, without the owner)", *v)
			}
			return ""
		}),
	scalar("secrets.rules_file", ruleOrgOwned, func(p *Policy) *string { return &p.Secrets.RulesFile },
		func(v *string) string {
			f := *v
			switch {
			case f == "":
				return ""
			case strings.HasPrefix(f, "/") || slices.Contains(strings.Split(f, "/"), ".."):
				return fmt.Sprintf("%q must be a path inside the org's `.github` repository", f)
			case !strings.HasSuffix(f, ".toml"):
				return fmt.Sprintf("%q must be a gitleaks-format `.toml` file", f)
			}
			return ""
		}),
	scalar("secrets.allow_inline_suppressions", ruleOnlyFalse, func(p *Policy) *bool { return &p.Secrets.AllowInlineSuppressions }, nil),
	scalar("secrets.revoke_github_tokens", ruleOrgOwned, func(p *Policy) *bool { return &p.Secrets.RevokeGitHubTokens }, nil),
	scalar("unscanned", ruleFailOnly, func(p *Policy) *string { return &p.Unscanned },
		func(v *string) string { return oneOf(*v, UnscannedFail, UnscannedNeutral) }),
	func() field {
		f := scalar("allow_repo_overrides", ruleOrgFileOnly, func(p *Policy) *bool { return &p.AllowRepoOverrides }, nil)
		f.orgOnly = true
		return f
	}(),
}

var fieldByPath = func() map[string]field {
	m := make(map[string]field, len(schema))
	for _, f := range schema {
		m[f.path] = f
	}
	return m
}()

// scalar builds a field holding one string, severity, int or bool.
func scalar[T any](path string, r rule, ptr func(*Policy) *T, check func(*T) string) field {
	return field{
		path: path, rule: r,
		decode: func(p *Policy, n *yaml.Node) string {
			if n.Kind != yaml.ScalarNode {
				return "want a single value, not a list or a mapping"
			}
			if n.Tag == "!!null" {
				return "has no value"
			}
			var v T
			if err := n.Decode(&v); err != nil {
				return fmt.Sprintf("%q is not %s", n.Value, kindName(v))
			}
			if check != nil {
				if r := check(&v); r != "" {
					return r
				}
			}
			*ptr(p) = v
			return ""
		},
		copy: func(dst, src *Policy) { *ptr(dst) = *ptr(src) },
		get:  func(p *Policy) any { return *ptr(p) },
		set:  func(p *Policy, v any) { *ptr(p) = v.(T) },
	}
}

func kindName(v any) string {
	switch v.(type) {
	case int:
		return "a whole number"
	case bool:
		return "true or false"
	}
	return "a string"
}

// list builds a field holding a list of strings; null is the empty list.
func list(path string, r rule, ptr func(*Policy) *[]string, check func([]string) string) field {
	return field{
		path: path, rule: r,
		decode: func(p *Policy, n *yaml.Node) string {
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				*ptr(p) = []string{}
				return ""
			}
			if n.Kind != yaml.SequenceNode {
				return "want a list, e.g. [\"a\", \"b\"]"
			}
			v := make([]string, 0, len(n.Content))
			for _, it := range n.Content {
				it = resolve(it)
				if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
					return "every item must be a single value"
				}
				v = append(v, it.Value)
			}
			if check != nil {
				if r := check(v); r != "" {
					return r
				}
			}
			*ptr(p) = v
			return ""
		},
		copy: func(dst, src *Policy) { *ptr(dst) = slices.Clone(*ptr(src)) },
		get:  func(p *Policy) any { return *ptr(p) },
		set:  func(p *Policy, v any) { *ptr(p) = v.([]string) },
	}
}

// decodeReasons reads override.reasons: reason label → reason identifier.
func decodeReasons(p *Policy, n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		p.Override.Reasons = map[string]string{}
		return ""
	}
	if n.Kind != yaml.MappingNode {
		return "want a mapping of reason label to reason, e.g. `escapegate/fix-later: fix_later`"
	}
	m := make(map[string]string, len(n.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return "every reason is `label: reason`"
		}
		if r := checkLabel(k.Value); r != "" {
			return r
		}
		if seen[strings.ToLower(k.Value)] {
			return fmt.Sprintf("reason label %q is listed twice", k.Value)
		}
		seen[strings.ToLower(k.Value)] = true
		if !reasonName.MatchString(v.Value) {
			return fmt.Sprintf("reason %q must be lower case letters, digits and `_` (e.g. fix_later)", v.Value)
		}
		m[k.Value] = v.Value
	}
	p.Override.Reasons = m
	return ""
}

// clonePolicy copies p so that no slice or map is shared.
func clonePolicy(p Policy) Policy {
	out := p
	for _, f := range schema {
		f.copy(&out, &p)
	}
	return out
}
