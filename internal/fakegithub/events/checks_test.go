package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// TestCheckPullRequestsMatchGitHubsSchema validates the pull requests of the check_run
// and check_suite payloads the tests send against the published webhook schema
// (octokit/webhooks): minimal ones, without title, labels or author, as GitHub sends
// them, so that no test leans on a field a real re-run does not carry.
func TestCheckPullRequestsMatchGitHubsSchema(t *testing.T) {
	defs := webhookDefinitions(t)
	if defs["check-run-pull-request"] == nil {
		t.Fatal("the schema has no check-run-pull-request definition")
	}
	schema := gojsonschema.NewGoLoader(map[string]any{"definitions": defs, "$ref": "#/definitions/check-run-pull-request"})
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	pr := events.PR{Number: 7, Title: "change", Author: "alice", Labels: []string{"release"}, HeadSHA: strings.Repeat("2", 40),
		HeadRef: "feature/7", BaseSHA: strings.Repeat("0", 40), BaseRef: "main"}
	older := strings.Repeat("1", 40)
	for _, tc := range []struct {
		name, key string
		payload   []byte
	}{
		{"check_run", "check_run", events.CheckRunRerequested(9, repo, pr, 5, "alice")},
		{"check_run of an older head", "check_run", events.CheckRunRerequestedOn(9, repo, pr, older, 5, "alice")},
		{"check_suite", "check_suite", events.CheckSuiteRerequested(9, repo, pr, older, "alice")},
	} {
		var ev map[string]any
		if err := json.Unmarshal(tc.payload, &ev); err != nil {
			t.Fatal(err)
		}
		obj, _ := ev[tc.key].(map[string]any)
		prs, _ := obj["pull_requests"].([]any)
		if len(prs) != 1 {
			t.Fatalf("%s: pull_requests = %v", tc.name, obj["pull_requests"])
		}
		head, _ := prs[0].(map[string]any)["head"].(map[string]any)
		if head["sha"] != pr.HeadSHA {
			t.Errorf("%s: pull request head.sha = %v, want the PR's head %s", tc.name, head["sha"], pr.HeadSHA)
		}
		res, err := gojsonschema.Validate(schema, gojsonschema.NewGoLoader(prs[0]))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s: %s", tc.name, e)
		}
	}
}
