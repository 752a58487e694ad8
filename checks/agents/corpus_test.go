package agents

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/internal/testenv"
)

type corpusCase struct {
	ID       string `json:"id"`
	Path     string `json:"path"`
	Content  string `json:"content"`
	Expect   string `json:"expect"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
}

// severityDeviations are corpus severities this detector lowers on purpose: the tool
// ignores the setting in project scope (research §0.1; the brief asks for a lower severity).
var severityDeviations = map[string]checks.Severity{
	"cc-03-bypass-mode":      checks.SeverityMedium, // Claude Code ignores bypassPermissions in project/local settings
	"gm-03-policy-allow-all": checks.SeverityMedium, // Gemini CLI workspace-tier policies are disabled
}

func TestCorpusCases(t *testing.T) {
	p := testenv.Shared(t, "corpus/agents/cases.jsonl")
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	fp := checks.NewFingerprinter([]byte("test-key"))
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		var c corpusCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line %d: %v", n+1, err)
		}
		n++
		t.Run(c.ID, func(t *testing.T) {
			if !Wants(c.Path, nil) && classify(c.Path) != kindPython {
				t.Fatalf("Wants(%q) = false", c.Path)
			}
			got := Evaluate(fp, c.Path, []byte(c.Content), nil)
			switch c.Expect {
			case "pass":
				for _, g := range got {
					t.Errorf("pass case has finding %s %s line %d: %s", g.Rule, g.Severity, g.Line, g.Message)
				}
			case "fail":
				want := checks.Severity(c.Severity)
				if d, ok := severityDeviations[c.ID]; ok {
					want = d
				}
				found := false
				for _, g := range got {
					if g.Rule == c.Rule && (want == "" || g.Severity == want) {
						found = true
					}
					if !strings.HasPrefix(g.Rule, "AGT-") || g.Line < 1 || g.Fingerprint == "" || g.Fix == "" {
						t.Errorf("incomplete finding %+v", g)
					}
				}
				if !found {
					t.Errorf("want %s (%s), got:", c.Rule, want)
					for _, g := range got {
						t.Logf("  %s %s line %d: %s", g.Rule, g.Severity, g.Line, g.Message)
					}
				}
			default:
				t.Fatalf("unknown expect %q", c.Expect)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("corpus is empty")
	}
}
