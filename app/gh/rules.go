package gh

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// RequiredCheck is a status check that must pass before a change reaches a branch.
type RequiredCheck struct {
	Context string
	// AppID is the app that must set it; 0 when any source may.
	AppID int64
	// Source says what requires it: "ruleset #ID of OWNER[/REPO]" or "branch protection".
	Source string
}

// maxRulePages bounds the pages of a branch's rules read (100 rules a page).
const maxRulePages = 10

// branchRule is one rule of GET /repos/{owner}/{repo}/rules/branches/{branch}; go-github
// v62 neither pages that list nor escapes the branch in its path.
type branchRule struct {
	Type       string `json:"type"`
	Parameters struct {
		RequiredStatusChecks []struct {
			Context       string `json:"context"`
			IntegrationID *int64 `json:"integration_id"`
		} `json:"required_status_checks"`
	} `json:"parameters"`
	RulesetSource string `json:"ruleset_source"`
	RulesetID     int64  `json:"ruleset_id"`
}

// branchProtection is what GET /repos/{owner}/{repo}/branches/{branch} says of classic
// protection; read access to the repository is enough to see it.
type branchProtection struct {
	Protected  bool `json:"protected"`
	Protection struct {
		Enabled              *bool `json:"enabled"`
		RequiredStatusChecks *struct {
			Contexts []string `json:"contexts"`
			Checks   []struct {
				Context string `json:"context"`
				AppID   *int64 `json:"app_id"`
			} `json:"checks"`
		} `json:"required_status_checks"`
	} `json:"protection"`
}

func (c *client) BranchRequirements(ctx context.Context, r Repo, branch string) ([]RequiredCheck, error) {
	op := "required checks of branch " + branch + " of"
	var out []RequiredCheck
	for page := 1; page <= maxRulePages; page++ {
		u := fmt.Sprintf("repos/%s/%s/rules/branches/%s?per_page=%d&page=%d",
			url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(branch), perPage, page)
		req, err := c.gh.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, wrap(err, op, r)
		}
		var rules []branchRule
		if _, err := c.gh.Do(ctx, req, &rules); err != nil {
			if statusOf(err) == http.StatusNotFound {
				break // no rulesets here (or a GitHub without them)
			}
			return nil, wrap(err, op, r)
		}
		for _, rule := range rules {
			if rule.Type != "required_status_checks" {
				continue
			}
			src := "a ruleset"
			if rule.RulesetID != 0 {
				src = "ruleset #" + strconv.FormatInt(rule.RulesetID, 10)
			}
			if rule.RulesetSource != "" {
				src += " of " + rule.RulesetSource // the repository, or the organization for an org ruleset
			}
			for _, rc := range rule.Parameters.RequiredStatusChecks {
				out = append(out, RequiredCheck{Context: rc.Context, AppID: orZero(rc.IntegrationID), Source: src})
			}
		}
		if len(rules) < perPage {
			break
		}
	}

	u := fmt.Sprintf("repos/%s/%s/branches/%s", url.PathEscape(r.Owner), url.PathEscape(r.Name), url.PathEscape(branch))
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, wrap(err, op, r)
	}
	var raw json.RawMessage
	if _, err := c.gh.Do(ctx, req, &raw); err != nil {
		if statusOf(err) == http.StatusNotFound {
			return out, nil // no such branch: nothing protects it
		}
		return nil, wrap(err, op, r)
	}
	var b branchProtection
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s %s: decoding the branch: %w", op, r, err)
	}
	rsc := b.Protection.RequiredStatusChecks
	if !b.Protected || rsc == nil || (b.Protection.Enabled != nil && !*b.Protection.Enabled) {
		return out, nil
	}
	seen := map[string]bool{}
	for _, ch := range rsc.Checks {
		seen[ch.Context] = true
		out = append(out, RequiredCheck{Context: ch.Context, AppID: orZero(ch.AppID), Source: "branch protection"})
	}
	for _, ctxName := range rsc.Contexts { // the older list: any source
		if !seen[ctxName] {
			out = append(out, RequiredCheck{Context: ctxName, Source: "branch protection"})
		}
	}
	return out, nil
}

// orZero reads an optional id; GitHub's -1 ("any source") is 0 too.
func orZero(p *int64) int64 {
	if p == nil || *p < 0 {
		return 0
	}
	return *p
}
