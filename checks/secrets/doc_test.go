package secrets

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

func TestRulesDocIsCurrent(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(), "docs", "secret-rules.md")
	want := RulesDoc(mustEngine(t, Options{}).Rules())
	if os.Getenv("ESCAPEGATE_UPDATE_DOCS") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (regenerate with ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/secrets -run TestRulesDocIsCurrent)", path, err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: regenerate with ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/secrets -run TestRulesDocIsCurrent", path)
	}
}
