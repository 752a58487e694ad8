package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/escapegate/escapegate/internal/testenv"
)

// TestOutputMatchesGitHubAPI sends every golden case's result, as the GitHub
// client would (annotations in batches of 50), through the request schema of
// "update a check run" in GitHub's OpenAPI description: field limits such as
// summary ≤ 65,535 characters and annotation levels are GitHub's, not ours.
func TestOutputMatchesGitHubAPI(t *testing.T) {
	spec := testenv.Shared(t, "fixtures/openapi/github-rest-subset.json")
	doc, err := openapi3.NewLoader().LoadFromFile(spec)
	if err != nil {
		t.Fatalf("load %s: %v", spec, err)
	}
	item := doc.Paths.Find("/repos/{owner}/{repo}/check-runs/{check_run_id}")
	if item == nil || item.Patch == nil || item.Patch.RequestBody == nil {
		t.Fatal("no PATCH check-run operation in the OpenAPI description")
	}
	schema := item.Patch.RequestBody.Value.Content.Get("application/json").Schema.Value

	// The schema check can fail: one character too many, or a wrong level.
	for name, out := range map[string]map[string]any{
		"summary too long": {"title": "t", "summary": strings.Repeat("x", MaxChars+1)},
		"bad level": {"title": "t", "summary": "s", "annotations": []any{map[string]any{
			"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "error", "message": "m"}}},
	} {
		if schema.VisitJSON(map[string]any{"status": "completed", "conclusion": "failure", "output": out}) == nil {
			t.Errorf("%s: accepted by the schema", name)
		}
	}

	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			res := Render(tc.in)
			batches := 0
			for start := 0; start == 0 || start < len(res.Annotations); start += 50 {
				end := min(start+50, len(res.Annotations))
				var anns []map[string]any
				for _, a := range res.Annotations[start:end] {
					anns = append(anns, map[string]any{
						"path": a.Path, "start_line": a.StartLine, "end_line": a.EndLine,
						"annotation_level": a.Level, "title": a.Title, "message": a.Message,
					})
				}
				body := map[string]any{
					"name": "escapegate", "status": "completed", "conclusion": res.Conclusion,
					"output": map[string]any{"title": res.Title, "summary": res.Summary, "text": res.Text, "annotations": anns},
				}
				if anns == nil {
					delete(body["output"].(map[string]any), "annotations")
				}
				// Validate the JSON GitHub would receive, not Go values.
				raw, err := json.Marshal(body)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatal(err)
				}
				if err := schema.VisitJSON(v); err != nil {
					t.Fatalf("batch %d: GitHub would refuse this update: %v", batches, err)
				}
				batches++
			}
			if want := max(1, (len(res.Annotations)+49)/50); batches != want {
				t.Errorf("%d batches, want %d", batches, want)
			}
		})
	}
}
