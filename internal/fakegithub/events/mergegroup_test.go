package events_test

import (
	"testing"

	"github.com/xeipuuv/gojsonschema"

	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// TestMergeGroupMatchesGitHubsSchema validates the merge_group payloads the tests and
// the demo send against the published webhook schema (octokit/webhooks), so that their
// shape is GitHub's: the same fields the handler decodes from real deliveries.
func TestMergeGroupMatchesGitHubsSchema(t *testing.T) {
	defs := webhookDefinitions(t)
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	g := events.Group{HeadSHA: "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d", BaseSHA: "380387fbc80638b734a49e1be1c4dfec1c01b33c", Base: "main", PR: 104}
	for _, tc := range []struct{ action, reason, def string }{
		{"checks_requested", "", "merge_group$checks_requested"},
		{"destroyed", "merged", "merge_group$destroyed"},
		{"destroyed", "dequeued", "merge_group$destroyed"},
	} {
		// The event's own fields as the definition has them (with the document's definitions
		// beside them for their $refs); repository, sender and organization are the shared
		// builders' minimal objects, which the handlers read only a few fields of.
		def, _ := defs[tc.def].(map[string]any)
		props, _ := def["properties"].(map[string]any)
		own := map[string]any{"action": props["action"], "merge_group": props["merge_group"], "installation": props["installation"]}
		required := []any{"action", "merge_group", "installation"}
		if r, ok := props["reason"]; ok {
			own["reason"] = r
			required = append(required, "reason")
		}
		if props["merge_group"] == nil {
			t.Fatalf("%s has no merge_group property", tc.def)
		}
		schema := map[string]any{"definitions": defs, "type": "object", "required": required, "properties": own}
		res, err := gojsonschema.Validate(gojsonschema.NewGoLoader(schema),
			gojsonschema.NewBytesLoader(events.MergeGroup(9, repo, tc.action, tc.reason, g, "github-merge-queue[bot]")))
		if err != nil {
			t.Fatalf("%s: %v", tc.def, err)
		}
		for _, e := range res.Errors() {
			t.Errorf("%s %s: %s", tc.action, tc.reason, e)
		}
	}
	if got := g.HeadRef(); got != "refs/heads/gh-readonly-queue/main/pr-104-380387fbc80638b734a49e1be1c4dfec1c01b33c" {
		t.Errorf("HeadRef() = %s", got)
	}
}
