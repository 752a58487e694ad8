package gh_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// TestBranchRequirementsOnTheFake reads rulesets and classic protection through the
// fake GitHub (and the transcript is validated against GitHub's API descriptions).
func TestBranchRequirementsOnTheFake(t *testing.T) {
	f, c, _ := setup(t)
	f.RequireCheck(repoName, "trunk", fakegithub.Requirement{Context: "escapegate", Ruleset: "protect"})
	f.RequireCheck(repoName, "trunk", fakegithub.Requirement{Context: "ci", Ruleset: "protect", AppID: 15368})
	f.RequireCheck(repoName, "trunk", fakegithub.Requirement{Context: "escapegate", AppID: 7})
	f.RequireCheck(repoName, "release/1.x", fakegithub.Requirement{Context: "escapegate"})
	got, err := c.BranchRequirements(context.Background(), acme, "trunk")
	if err != nil {
		t.Fatal(err)
	}
	want := []gh.RequiredCheck{
		{Context: "escapegate", Source: "ruleset #1 of " + repoName},
		{Context: "ci", AppID: 15368, Source: "ruleset #1 of " + repoName},
		{Context: "escapegate", AppID: 7, Source: "branch protection"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("trunk:\n got %+v\nwant %+v", got, want)
	}
	// A branch with a '/' is one path segment (escaped), as GitHub needs it.
	got, err = c.BranchRequirements(context.Background(), acme, "release/1.x")
	if err != nil || len(got) != 1 || got[0].Source != "branch protection" {
		t.Fatalf("release/1.x: %+v, %v", got, err)
	}
	if got, err := c.BranchRequirements(context.Background(), acme, "gone"); err != nil || len(got) != 0 {
		t.Fatalf("a branch nothing protects: %+v, %v", got, err)
	}
}

// TestBranchRequirementsAnswers covers answers the fake does not give: the older
// contexts list, protection switched off, -1 as "any app", more than one page of rules,
// a GitHub without the rules endpoint, and errors that must not read as "not required".
func TestBranchRequirementsAnswers(t *testing.T) {
	manyRules := func(page int) string {
		if page > 1 {
			return `[{"type":"required_status_checks","ruleset_source":"acme","ruleset_id":9,"parameters":{"strict_required_status_checks_policy":false,"required_status_checks":[{"context":"escapegate","integration_id":-1}]}}]`
		}
		rules := make([]string, 100)
		for i := range rules {
			rules[i] = `{"type":"pull_request","ruleset_id":3}`
		}
		return "[" + strings.Join(rules, ",") + "]"
	}
	tests := []struct {
		name    string
		rules   func(page int) (int, string)
		branch  func() (int, string)
		want    []gh.RequiredCheck
		wantErr string
	}{
		{
			name:  "older contexts list, any source",
			rules: func(int) (int, string) { return 200, `[]` },
			branch: func() (int, string) {
				return 200, `{"protected":true,"protection":{"enabled":true,"required_status_checks":{"contexts":["escapegate","ci"],"checks":[{"context":"ci","app_id":1}]}}}`
			},
			want: []gh.RequiredCheck{{Context: "ci", AppID: 1, Source: "branch protection"}, {Context: "escapegate", Source: "branch protection"}},
		},
		{
			name:  "protection switched off",
			rules: func(int) (int, string) { return 200, `[]` },
			branch: func() (int, string) {
				return 200, `{"protected":true,"protection":{"enabled":false,"required_status_checks":{"contexts":["escapegate"],"checks":[]}}}`
			},
		},
		{
			name:   "an organization ruleset on the second page, any app",
			rules:  func(p int) (int, string) { return 200, manyRules(p) },
			branch: func() (int, string) { return 200, `{"protected":false}` },
			want:   []gh.RequiredCheck{{Context: "escapegate", Source: "ruleset #9 of acme"}},
		},
		{
			name:  "no rules endpoint (404)",
			rules: func(int) (int, string) { return 404, `{"message":"Not Found"}` },
			branch: func() (int, string) {
				return 200, `{"protected":true,"protection":{"required_status_checks":{"contexts":[],"checks":[{"context":"escapegate","app_id":null}]}}}`
			},
			want: []gh.RequiredCheck{{Context: "escapegate", Source: "branch protection"}},
		},
		{
			name:    "forbidden is an error, not 'not required'",
			rules:   func(int) (int, string) { return 403, `{"message":"Resource not accessible by integration"}` },
			branch:  func() (int, string) { return 200, `{}` },
			wantErr: "403",
		},
		{
			name:    "a branch answer that is not JSON",
			rules:   func(int) (int, string) { return 200, `[]` },
			branch:  func() (int, string) { return 200, `<html>` },
			wantErr: "branch",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				var code int
				var body string
				switch {
				case strings.HasPrefix(r.URL.Path, "/repos/acme/web/rules/branches/main"):
					var page int
					fmt.Sscan(r.URL.Query().Get("page"), &page)
					code, body = tc.rules(page)
				case r.URL.Path == "/repos/acme/web/branches/main":
					code, body = tc.branch()
				default:
					code, body = 404, `{"message":"Not Found"}`
				}
				w.WriteHeader(code)
				fmt.Fprint(w, body)
			}))
			defer srv.Close()
			ghc, err := github.NewClient(srv.Client()).WithEnterpriseURLs(srv.URL+"/", srv.URL+"/")
			if err != nil {
				t.Fatal(err)
			}
			ghc.BaseURL.Path = "/"
			got, err := gh.New(ghc, gh.WithRetryPolicy(gh.RetryPolicy{})).BranchRequirements(context.Background(), acme, "main")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
