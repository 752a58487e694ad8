package agents

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

func TestRulesDoc(t *testing.T) {
	p := filepath.Join(testenv.RepoRoot(), "docs", "agent-rules.md")
	want := RulesMarkdown()
	if os.Getenv("ESCAPEGATE_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/agents -run TestRulesDoc", p)
	}
	for _, r := range Rules() {
		if !strings.Contains(want, "## "+r.ID+"\n") {
			t.Errorf("doc lacks %s", r.ID)
		}
	}
}
