package apivalidate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/testenv"
)

func annotations(n int) string {
	a := make([]string, n)
	for i := range a {
		a[i] = fmt.Sprintf(`{"path":"a.go","start_line":%d,"end_line":%d,"annotation_level":"failure","message":"m"}`, i+1, i+1)
	}
	return "[" + strings.Join(a, ",") + "]"
}

func TestValidate(t *testing.T) {
	spec := testenv.Shared(t, "fixtures/openapi/api.github.com.2022-07.json")
	v, err := apivalidate.Load(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body string
		wantProblem              string // "" for a valid request
	}{
		{"check run ok", "POST", "/repos/o/r/check-runs", `{"name":"escapegate","head_sha":"abc","output":{"title":"t","summary":"s","annotations":` + annotations(50) + `}}`, ""},
		{"51 annotations", "POST", "/repos/o/r/check-runs", `{"name":"escapegate","head_sha":"abc","output":{"title":"t","summary":"s","annotations":` + annotations(51) + `}}`, "annotations"},
		{"bad conclusion", "PATCH", "/repos/o/r/check-runs/1", `{"name":"escapegate","conclusion":"passed"}`, "conclusion"},
		{"bad annotation level", "POST", "/repos/o/r/check-runs", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"s","annotations":[{"path":"a","start_line":1,"end_line":1,"annotation_level":"error","message":"m"}]}}`, "annotation_level"},
		{"summary too long", "POST", "/repos/o/r/check-runs", `{"name":"n","head_sha":"a","output":{"title":"t","summary":"` + strings.Repeat("x", 65536) + `"}}`, "summary"},
		{"escaped label", "DELETE", "/repos/o/r/issues/1/labels/escapegate%2Faccept-risk", "", ""},
		{"unescaped label", "DELETE", "/repos/o/r/issues/1/labels/escapegate/accept-risk", "", "no operation"},
		{"contents path", "GET", "/repos/o/r/contents/.github/escapegate.yml?ref=main", "", ""},
		{"enterprise prefix", "GET", "/api/v3/repos/o/r/pulls/1/files?per_page=100&page=2", "", ""},
		{"comment without body", "POST", "/repos/o/r/issues/1/comments", `{"text":"x"}`, "body"},
		{"no such operation", "GET", "/repos/o/r/escapes", "", "no operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakegithub.Request{Method: tt.method, Path: tt.path, Body: json.RawMessage("null")}
			if tt.body != "" {
				rec.Body = json.RawMessage(tt.body)
			}
			ps := v.Validate(context.Background(), rec)
			if tt.wantProblem == "" {
				if len(ps) > 0 {
					t.Fatalf("problems for a valid request: %v", ps)
				}
				return
			}
			if len(ps) == 0 {
				t.Fatalf("no problem found, want one about %q", tt.wantProblem)
			}
			if !strings.Contains(fmt.Sprint(ps), tt.wantProblem) {
				t.Errorf("problems %v do not mention %q", ps, tt.wantProblem)
			}
		})
	}
}
