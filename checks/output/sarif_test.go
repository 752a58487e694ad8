package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	gosarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"

	"github.com/escapegate/escapegate/checks"
)

func sarifBytes(t *testing.T, findings []checks.Finding, rs []checks.RuleInfo) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := SARIF(&b, findings, rs, "1.2.3"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSARIFGolden(t *testing.T) {
	golden(t, "all.sarif", sarifBytes(t, all, rules))
	golden(t, "empty.sarif", sarifBytes(t, nil, nil))
}

// sarifSchemaText returns the SARIF 2.1.0 JSON schema (OASIS errata 01) that
// go-sarif embeds as a Go constant: the schema cannot be downloaded here, and
// shared data must not be copied into the repository, so the test reads it from
// the module cache. It skips when the go tool or the module is unavailable.
func sarifSchemaText(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("go-sarif module not found (%v): cannot load the SARIF schema", err)
	}
	file := filepath.Join(dir, "pkg", "report", "v210", "sarif", "schema.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Skipf("read SARIF schema from %s: %v", file, err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) == 1 && vs.Names[0].Name == "schema" && len(vs.Values) == 1 {
				if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
					text, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatalf("unquote schema: %v", err)
					}
					return text
				}
			}
		}
	}
	t.Skipf("no schema constant in %s", file)
	return ""
}

func validateSARIF(t *testing.T, schema string, doc []byte) []string {
	t.Helper()
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return errs
}

// TestSARIFSchema validates the bytes SARIF writes against the SARIF 2.1.0
// schema, and checks that go-sarif, a common SARIF reader, parses them.
func TestSARIFSchema(t *testing.T) {
	schema := sarifSchemaText(t)
	cases := map[string][]checks.Finding{"all": all, "none": nil, "unknown rule": {{Rule: "x", Path: "a", Line: 0}}}
	for name, fs := range cases {
		t.Run(name, func(t *testing.T) {
			raw := sarifBytes(t, fs, rules)
			if errs := validateSARIF(t, schema, raw); len(errs) > 0 {
				t.Fatalf("not valid SARIF 2.1.0:\n%s", strings.Join(errs, "\n"))
			}
			doc, err := gosarif.FromBytes(raw)
			if err != nil {
				t.Fatalf("go-sarif cannot read it: %v", err)
			}
			if len(doc.Runs) != 1 || len(doc.Runs[0].Results) != len(fs) {
				t.Errorf("go-sarif reads %d runs", len(doc.Runs))
			}
		})
	}
}

// TestSARIFSchemaCatchesMistakes shows the schema check can fail.
func TestSARIFSchemaCatchesMistakes(t *testing.T) {
	schema := sarifSchemaText(t)
	raw := sarifBytes(t, all, rules)
	for name, edit := range map[string][2]string{
		"bad level":      {`"level": "error"`, `"level": "critical"`},
		"zero startLine": {`"startLine": 2`, `"startLine": 0`},
		"bad version":    {`"version": "2.1.0"`, `"version": "2.0"`},
	} {
		bad := bytes.Replace(raw, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(bad, raw) {
			t.Fatalf("%s: edit did not apply", name)
		}
		if len(validateSARIF(t, schema, bad)) == 0 {
			t.Errorf("%s passed schema validation", name)
		}
	}
}

// sarifDoc is the part of SARIF that GitHub code scanning reads, decoded
// independently of the writer's types.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID               string `json:"id"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
						EndLine   int `json:"endLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			BaselineState       string            `json:"baselineState"`
			Suppressions        []struct {
				Kind string `json:"kind"`
			} `json:"suppressions"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIFStructure(t *testing.T) {
	raw := sarifBytes(t, all, rules)
	var doc sarifDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q, %d runs", doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "escapegate" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver = %q %q", run.Tool.Driver.Name, run.Tool.Driver.Version)
	}
	// Given rules in order, duplicates dropped, then rules only findings name.
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
		if r.ShortDescription.Text == "" || r.Help.Text == "" {
			t.Errorf("rule %s lacks a description or help", r.ID)
		}
		sev, ok := r.Properties["security-severity"].(string)
		if !ok {
			t.Errorf("rule %s: security-severity is %T, want a string", r.ID, r.Properties["security-severity"])
		}
		var score float64
		if _, err := fmt.Sscan(sev, &score); err != nil || score <= 0 || score > 10 {
			t.Errorf("rule %s: security-severity %q is not a score in (0, 10]", r.ID, sev)
		}
		if _, ok := r.Properties["tags"].([]any); !ok {
			t.Errorf("rule %s has no tags", r.ID)
		}
	}
	if got, want := strings.Join(ids, ","), "github-pat,AGT-CC-1,AGT-AD-1,private-key,generic-api-key"; got != want {
		t.Errorf("rules = %s, want %s", got, want)
	}
	if strings.Contains(string(raw), rules[0].Example) {
		t.Error("a rule's example value reached the SARIF")
	}
	if strings.Contains(string(raw), ghpRaw) {
		t.Error("SARIF holds a raw secret")
	}

	if len(run.Results) != len(all) {
		t.Fatalf("%d results, want %d", len(run.Results), len(all))
	}
	wantLevel := map[checks.Severity]string{"critical": "error", "high": "error", "medium": "warning", "low": "note"}
	for i, r := range run.Results {
		f := all[i]
		if r.RuleID != f.Rule || ids[r.RuleIndex] != f.Rule {
			t.Errorf("result %d: ruleId %q, ruleIndex %d (%s)", i, r.RuleID, r.RuleIndex, ids[r.RuleIndex])
		}
		if r.Level != wantLevel[f.Severity] {
			t.Errorf("result %d: level %q for %s", i, r.Level, f.Severity)
		}
		if r.PartialFingerprints[FingerprintKey] != f.Fingerprint {
			t.Errorf("result %d: partialFingerprints %v", i, r.PartialFingerprints)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.Region.StartLine != f.Line {
			t.Errorf("result %d: startLine %d, want %d", i, loc.Region.StartLine, f.Line)
		}
		if f.EndLine > f.Line && loc.Region.EndLine != f.EndLine {
			t.Errorf("result %d: endLine %d, want %d", i, loc.Region.EndLine, f.EndLine)
		}
		if (r.BaselineState == "unchanged") != f.Existing {
			t.Errorf("result %d: baselineState %q, existing %v", i, r.BaselineState, f.Existing)
		}
		if (len(r.Suppressions) == 1 && r.Suppressions[0].Kind == "inSource") != f.Suppressed {
			t.Errorf("result %d: suppressions %v, suppressed %v", i, r.Suppressions, f.Suppressed)
		}
		if f.Redacted != "" && !strings.Contains(r.Message.Text, f.Redacted) {
			t.Errorf("result %d: message %q lacks the redacted value", i, r.Message.Text)
		}
	}
	if got := run.Results[2].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "deploy/keys/id%20rsa%3Aprod.pem" {
		t.Errorf("uri = %q", got)
	}
}

func TestSecuritySeverityBands(t *testing.T) {
	// GitHub: > 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low.
	bands := map[checks.Severity][2]float64{
		"critical": {9.0001, 10}, "high": {7.0, 8.9}, "medium": {4.0, 6.9}, "low": {0.1, 3.9},
	}
	for sev, band := range bands {
		var v float64
		if _, err := fmt.Sscan(SecuritySeverity(sev), &v); err != nil {
			t.Fatal(err)
		}
		if v < band[0] || v > band[1] {
			t.Errorf("%s scores %v, outside GitHub's band %v", sev, v, band)
		}
	}
}

func TestRelativeURI(t *testing.T) {
	cases := map[string]string{
		"a/b.txt":         "a/b.txt",
		"/abs/path":       "abs/path",
		`win\path\f.json`: "win/path/f.json",
		"c:/x":            "c%3A/x",
		"sp ace/ü.txt":    "sp%20ace/%C3%BC.txt",
		"q?#.txt":         "q%3F%23.txt",
	}
	for in, want := range cases {
		if got := relativeURI(in); got != want {
			t.Errorf("relativeURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkSARIF2000(b *testing.B) {
	fs := make([]checks.Finding, 2000)
	for i := range fs {
		fs[i] = ghp
		fs[i].Line = i + 1
	}
	b.ReportAllocs()
	for b.Loop() {
		var w bytes.Buffer
		if err := SARIF(&w, fs, rules, "1.0.0"); err != nil {
			b.Fatal(err)
		}
	}
}
