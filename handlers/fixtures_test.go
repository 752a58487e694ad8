package handlers_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/testenv"
)

// TestGitHubExamplePayloads feeds every example payload of GitHub's published webhook
// examples (../shared/fixtures/webhooks) through the handlers, with an installation
// added where the example lacks one, against a fake GitHub that knows the repositories
// and pull requests the payloads name. Each must be handled without an error.
func TestGitHubExamplePayloads(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/webhooks")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Skipf("no example payloads in %s", dir)
	}
	sort.Strings(files)
	for _, path := range files {
		event := filepath.Base(filepath.Dir(path))
		t.Run(event+"/"+filepath.Base(path), func(t *testing.T) {
			t.Parallel() // each payload has its own escapegate, store and fake GitHub
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if _, ok := doc["installation"]; !ok {
				doc["installation"] = map[string]any{"id": 31337, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMzEzMzc="}
			}
			payload, _ := json.Marshal(doc)
			e := newEnv(t)
			register(e.h.GitHub, doc)
			deps := handlers.Deps{Gate: e.h.Server.Gate(), Store: e.h.Store, Log: zerolog.Nop()}
			var handled bool
			for _, h := range handlers.All(deps) {
				for _, ev := range h.Handles() {
					if ev != event {
						continue
					}
					handled = true
					if err := h.Handle(context.Background(), event, "fixture-"+filepath.Base(path), payload); err != nil {
						t.Fatalf("handler error: %v", err)
					}
				}
			}
			if !handled {
				// An event escapegate does not subscribe to (app.yml) is acknowledged and
				// ignored: 202, nothing asked of GitHub.
				code, err := e.h.Send(context.Background(), event, payload)
				if err != nil {
					t.Fatal(err)
				}
				if code != 202 {
					t.Fatalf("an event no handler takes (%s) was answered %d, want 202", event, code)
				}
				if n := len(e.h.GitHub.Requests()); n != 0 {
					t.Fatalf("an ignored %s event made %d GitHub requests", event, n)
				}
			}
		})
	}
}

// register tells the fake GitHub about the repositories, pull requests and the push
// comparison that a payload names, as the real GitHub would know them.
func register(f *fakegithub.Server, doc map[string]any) {
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if name, ok := x["full_name"].(string); ok && name != "" {
				if db, ok := x["default_branch"].(string); ok {
					f.AddRepo(name, db)
				} else {
					f.AddRepo(name, "")
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	repo, _ := doc["repository"].(map[string]any)
	full, _ := repo["full_name"].(string)
	if full == "" {
		return
	}
	addPull := func(p map[string]any) {
		n, _ := p["number"].(float64)
		if n == 0 {
			return
		}
		head, _ := p["head"].(map[string]any)
		base, _ := p["base"].(map[string]any)
		hs, _ := head["sha"].(string)
		hr, _ := head["ref"].(string)
		bs, _ := base["sha"].(string)
		br, _ := base["ref"].(string)
		f.AddPull(full, fakegithub.Pull{Number: int(n), HeadSHA: hs, HeadRef: hr, BaseSHA: bs, BaseRef: br,
			Files: []fakegithub.PullFile{{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # Hello\n+world"}}})
	}
	if p, ok := doc["pull_request"].(map[string]any); ok {
		addPull(p)
	}
	for _, key := range []string{"check_run", "check_suite"} {
		if c, ok := doc[key].(map[string]any); ok {
			prs, _ := c["pull_requests"].([]any)
			for _, p := range prs {
				if pm, ok := p.(map[string]any); ok {
					addPull(pm)
				}
			}
		}
	}
	if mg, ok := doc["merge_group"].(map[string]any); ok {
		base, _ := mg["base_sha"].(string)
		head, _ := mg["head_sha"].(string)
		f.SetCompare(full, base, head, []fakegithub.PullFile{{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # Hello\n+world"}})
	}
	before, _ := doc["before"].(string)
	after, _ := doc["after"].(string)
	if before != "" && after != "" {
		f.SetCompare(full, before, after, []fakegithub.PullFile{{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # Hello\n+world"}})
	}
}
