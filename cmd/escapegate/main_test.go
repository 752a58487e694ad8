package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/fakecreds"
)

var awsKey = fakecreds.FakeAWSKey

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanDiffJSON(t *testing.T) {
	withKey := "diff --git a/app.env b/app.env\n--- a/app.env\n+++ b/app.env\n@@ -1,2 +1,3 @@\n A=1\n+AWS_ACCESS_KEY_ID=" + awsKey() + "\n B=2\n"
	removedKey := "diff --git a/app.env b/app.env\n--- a/app.env\n+++ b/app.env\n@@ -1,3 +1,2 @@\n A=1\n-AWS_ACCESS_KEY_ID=" + awsKey() + "\n B=2\n"
	agent := "diff --git a/.claude/settings.json b/.claude/settings.json\nnew file mode 100644\n--- /dev/null\n+++ b/.claude/settings.json\n@@ -0,0 +1,5 @@\n+{\n+  \"permissions\": {\n+    \"allow\": [\"Bash(*)\"]\n+  }\n+}\n"
	tests := []struct {
		name     string
		diff     string
		code     int
		rule     string
		category string
		line     int
	}{
		{"added key", withKey, 1, "aws-access-token", "secret", 2},
		{"removed key", removedKey, 0, "", "", 0},
		{"agent permission", agent, 1, "AGT-CC-1", "agent-permission", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, via := range []string{"file", "stdin"} {
				args := []string{"scan", "--format", "json", "--diff"}
				stdin := ""
				if via == "file" {
					args = append(args, writeTemp(t, "x.diff", tc.diff))
				} else {
					args, stdin = append(args, "-"), tc.diff
				}
				code, out, errOut := runCmd(t, stdin, args...)
				if code != tc.code {
					t.Fatalf("%s: exit %d, want %d (%s)", via, code, tc.code, errOut)
				}
				if strings.Contains(out, awsKey()) {
					t.Fatalf("output holds the raw key: %s", out)
				}
				var doc map[string][]map[string]any
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, out)
				}
				fs, ok := doc["findings"]
				if !ok || (tc.code == 0 && len(fs) != 0) {
					t.Fatalf("findings = %v", doc)
				}
				if tc.rule == "" {
					continue
				}
				f := fs[0]
				keys := []string{"rule", "category", "severity", "path", "line", "message", "fingerprint"}
				if len(f) != len(keys) {
					t.Fatalf("finding has keys %v, want exactly %v", f, keys)
				}
				for _, k := range keys {
					if _, ok := f[k]; !ok {
						t.Fatalf("finding lacks %q: %v", k, f)
					}
				}
				if f["rule"] != tc.rule || f["category"] != tc.category || int(f["line"].(float64)) != tc.line {
					t.Fatalf("finding = %v", f)
				}
			}
		})
	}
}

func TestScanBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no input", []string{"scan"}},
		{"both diff and paths", []string{"scan", "--diff", "-", "."}},
		{"unknown format", []string{"scan", "--format", "xml", "."}},
		{"bad fail-on", []string{"scan", "--fail-on", "urgent", "."}},
		{"missing file", []string{"scan", "--diff", "/nonexistent/x.diff"}},
		{"malformed diff", []string{"scan", "--diff", "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ nonsense @@\n"
			if code, _, errOut := runCmd(t, stdin, tc.args...); code != 2 || errOut == "" {
				t.Fatalf("exit %d (%q), want 2 with a message", code, errOut)
			}
		})
	}
}

func TestScanPathsAndSARIF(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.py"), []byte("KEY = '"+awsKey()+"'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "", "scan", "--format", "sarif", dir)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil {
		t.Fatal(err)
	}
	if sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 ||
		sarif.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI != "config.py" {
		t.Fatalf("sarif = %+v", sarif)
	}
}

func TestValidate(t *testing.T) {
	good := writeTemp(t, "org/escapegate.yml", "fail_on: critical\nsummary:\n  repository: security-reports\n")
	bad := writeTemp(t, "repo/.github/escapegate.yml", "fail_on: high\nfial_on: low\n")
	if code, out, _ := runCmd(t, "", "validate", good); code != 0 || !strings.Contains(out, "valid org policy") {
		t.Fatalf("good: %d %s", code, out)
	}
	code, out, _ := runCmd(t, "", "validate", bad)
	if code != 1 || !strings.Contains(out, "line 2") || !strings.Contains(out, "fial_on") {
		t.Fatalf("bad: %d %s", code, out)
	}
}

func TestRulesAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, "", "rules", "--format", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var doc struct {
		Rules []struct{ ID, Category string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	cats := map[string]int{}
	for _, r := range doc.Rules {
		cats[r.Category]++
	}
	if cats["secret"] < 200 || cats["agent-permission"] < 20 {
		t.Fatalf("rules per category: %v", cats)
	}
	if code, _, _ := runCmd(t, ""); code != 2 {
		t.Fatalf("no command: exit %d", code)
	}
	if code, _, errOut := runCmd(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown: %d %s", code, errOut)
	}
}

func TestReportFromStore(t *testing.T) {
	dir := t.TempDir()
	cfg := writeTemp(t, "c.yml", "store: bolt:"+filepath.Join(dir, "s.db")+"\n")
	if code, out, errOut := runCmd(t, "", "migrate", "--config", cfg); code != 0 || !strings.Contains(out, "version") {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	// A repository the store has never seen is an error that names it.
	code, _, errOut := runCmd(t, "", "report", "--config", cfg, "--repo", "acme/none")
	if code != 1 || !strings.Contains(errOut, "acme/none") {
		t.Fatalf("report: %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "report", "--config", cfg); code != 2 {
		t.Fatalf("report without --repo: %d", code)
	}
}

func TestRedactDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:hunter2@db/x",
		"postgres://u:hun%40ter2@db/x",
		"postgres://u@db/x?password=hunter2&sslmode=require",
		"postgres://u@db/x?sslmode=require&PASSWORD=hunter2",
		"postgres://u@db/x?sslpassword=hunter2",
		"host=db user=app password=hunter2 dbname=x",
		"host=db user=app password='hunter2 with spaces' dbname=x",
		"host=db user=app password = hunter2",
		"user=app password=hunter2",
	} {
		got := redactDSN(dsn)
		if strings.Contains(got, "hunter2") || strings.Contains(got, "hun@ter2") || strings.Contains(got, "hun%40ter2") {
			t.Errorf("redactDSN(%q) = %q", dsn, got)
		}
		if !strings.Contains(got, "xxxxx") {
			t.Errorf("redactDSN(%q) = %q: nothing hidden", dsn, got)
		}
		if e := scrubDSN("cannot parse `"+dsn+"`: failed", dsn); strings.Contains(e, "hunter2") {
			t.Errorf("scrubDSN: %q", e)
		}
	}
	if got := redactDSN("bolt:/var/lib/escapegate.db"); got != "bolt:/var/lib/escapegate.db" {
		t.Errorf("a bolt path changed: %q", got)
	}
}

// TestServeLogsNoDSNPassword: what serve prints about a store it cannot open hides the
// DSN's password, in the URL's user info and in its query (the driver's error too).
func TestServeLogsNoDSNPassword(t *testing.T) {
	for _, dsn := range []string{"postgres://app@127.0.0.1:1/x?password=hunter2&connect_timeout=1", "postgres://app:hunter2@127.0.0.1:1/x?connect_timeout=1"} {
		cfg := writeTemp(t, "c.yml", "github:\n  app:\n    integration_id: 1\n    private_key: k\n    webhook_secret: s\nstore: "+strconv.Quote(dsn)+"\nfingerprint_key: k\n")
		_, out, errOut := runCmd(t, "", "serve", "--config", cfg)
		if strings.Contains(out+errOut, "hunter2") {
			t.Errorf("serve with %q printed the password:\n%s%s", redactDSN(dsn), out, errOut)
		}
	}
}
