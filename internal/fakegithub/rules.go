package fakegithub

import (
	"fmt"
	"net/http"
	"strings"
)

// Requirement is a status check that a ruleset or classic branch protection requires
// on a branch.
type Requirement struct {
	Context string
	AppID   int64 // 0: any source
	// Ruleset names the ruleset that requires it; "" is classic branch protection.
	Ruleset string
}

// RequireCheck makes a branch require a status check (a ruleset's rule when
// req.Ruleset is set, else classic branch protection).
func (f *Server) RequireCheck(repo, branch string, req Requirement) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	if r.required == nil {
		r.required = map[string][]Requirement{}
	}
	r.required[branch] = append(r.required[branch], req)
}

// ClearRequirements removes every requirement of a branch.
func (f *Server) ClearRequirements(repo, branch string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.repo(repo).required, branch)
}

// branchRules serves GET /repos/{owner}/{repo}/rules/branches/{branch}: the active
// rules of rulesets that apply to the branch, one rule per ruleset.
func (f *Server) branchRules(c *call, r *repoState, branch string) {
	var rules []map[string]any
	byRuleset := map[string]int{}
	for _, q := range r.required[branch] {
		if q.Ruleset == "" {
			continue
		}
		check := map[string]any{"context": q.Context}
		if q.AppID != 0 {
			check["integration_id"] = q.AppID
		}
		i, ok := byRuleset[q.Ruleset]
		if !ok {
			i = len(rules)
			byRuleset[q.Ruleset] = i
			rules = append(rules, map[string]any{
				"type": "required_status_checks",
				"parameters": map[string]any{
					"required_status_checks": []map[string]any{}, "strict_required_status_checks_policy": false,
				},
				"ruleset_source_type": "Repository", "ruleset_source": r.fullName(), "ruleset_id": i + 1,
			})
		}
		params := rules[i]["parameters"].(map[string]any)
		params["required_status_checks"] = append(params["required_status_checks"].([]map[string]any), check)
	}
	from, to := c.page(len(rules))
	writeJSON(c.w, http.StatusOK, append([]map[string]any{}, rules[from:to]...))
}

// getBranch serves GET /repos/{owner}/{repo}/branches/{branch} with its classic protection.
func (f *Server) getBranch(c *call, r *repoState, branch string) {
	_, hasFiles := r.files[branch]
	if branch != r.defaultBranch && !hasFiles && r.required[branch] == nil {
		writeNotFound(c.w, "https://docs.github.com/rest/branches/branches#get-a-branch")
		return
	}
	var contexts []string
	checks := []map[string]any{}
	for _, q := range r.required[branch] {
		if q.Ruleset != "" {
			continue
		}
		contexts = append(contexts, q.Context)
		var app any
		if q.AppID != 0 {
			app = q.AppID
		}
		checks = append(checks, map[string]any{"context": q.Context, "app_id": app})
	}
	url := fmt.Sprintf("%s/repos/%s/branches/%s", f.base(), r.fullName(), strings.ReplaceAll(branch, "/", "%2F"))
	out := map[string]any{
		"name":           branch,
		"commit":         map[string]any{"sha": strings.Repeat("0", 40), "url": f.base() + "/repos/" + r.fullName() + "/commits/" + branch},
		"_links":         map[string]any{"self": url, "html": "https://github.com/" + r.fullName() + "/tree/" + branch},
		"protected":      len(checks) > 0,
		"protection_url": url + "/protection",
		"protection":     map[string]any{"enabled": false, "required_status_checks": map[string]any{"enforcement_level": "off", "contexts": []string{}, "checks": []any{}}},
	}
	if len(checks) > 0 {
		out["protection"] = map[string]any{"enabled": true, "required_status_checks": map[string]any{
			"enforcement_level": "non_admins", "contexts": contexts, "checks": checks,
		}}
	}
	writeJSON(c.w, http.StatusOK, out)
}
