package demo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/testenv"
)

// TestDemo plays the demo against github.com's fake and against a fake GitHub
// Enterprise Server (API under /api/v3/ only, rate limits off), and validates every
// request escapegate sent against that host's API description.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		enterprise bool
		specs      []string // the first that names an operation validates it
	}{
		{"github.com", false, []string{"api.github.com.2022-07.json", "api.github.com.2026.json"}},
		{"GHES", true, []string{"ghes-3.19.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir(), Enterprise: tc.enterprise})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			var out bytes.Buffer
			if err := demo.Run(ctx, h, &out); err != nil {
				t.Fatalf("demo: %v\n%s", err, out.String())
			}
			for _, want := range []string{
				"merge group gh-readonly-queue/main/pr-1-",
				"webhook merge_group → escapegate answered 2",
				"check run \"escapegate\": completed / neutral",
				"of #2, #1: what the group adds",
				"Carried: exception #1 of #2 (@sec-lead)",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the demo's output lacks %q", want)
				}
			}
			for _, r := range h.GitHub.Requests() {
				if tc.enterprise && !strings.HasPrefix(r.Path, "/api/v3/") {
					t.Errorf("on GHES escapegate asked %s %s", r.Method, r.Path)
				}
			}
			dir := testenv.SharedDir()
			if dir == "" {
				return
			}
			var paths []string
			for _, sp := range tc.specs {
				paths = append(paths, filepath.Join(dir, "fixtures", "openapi", sp))
			}
			v, err := apivalidate.Load(ctx, paths...)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range v.ValidateAll(ctx, h.GitHub.Requests()) {
				t.Errorf("%s would refuse: %s", tc.name, p)
			}
		})
	}
}
