package secrets

import (
	"reflect"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// Test values are built at run time so that this file holds no literal credential.
var (
	ghToken    = "ghp_" + strings.Repeat("aB3dE5fG7h", 3) + "J9kL1mN3pQ"
	awsKey     = "AKIA" + "Z7QW3RT5YU6IO2PL"
	stripeLive = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
	stripeTest = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"
)

func privateKeyBlock() []string {
	body := strings.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", 1)
	return []string{
		"-----BEGIN RSA PRIVATE KEY-----",
		body,
		"VbnB0GZWk5Y4QkYFDBQWmaAT7hPNFNjz8vf3eSsjv2dBfMRBR7uT0WyP8bHfYg7a",
		"ZMn6kKAXPxl9eFZb4ZdMIXD3e6Ap1hQU5W5A1d8A6P4vBkXgBeTWbVr2C9hSQwyY",
		"-----END RSA PRIVATE KEY-----",
	}
}

func numbered(first int, texts ...string) []diff.Line {
	out := make([]diff.Line, len(texts))
	for i, t := range texts {
		out[i] = diff.Line{No: first + i, Text: t}
	}
	return out
}

func TestScanFile(t *testing.T) {
	e := mustEngine(t, Options{})
	key := privateKeyBlock()
	tests := []struct {
		name     string
		path     string
		added    []diff.Line
		wantRule string // "" means no finding
		wantLine int
		wantEnd  int
		wantSev  checks.Severity
	}{
		{"github token", "main.go", numbered(10, "package main", `const tok = "`+ghToken+`"`), "github-pat", 11, 0, checks.SeverityCritical},
		{"aws key id", "deploy.sh", numbered(3, "export AWS_ACCESS_KEY_ID="+awsKey), "aws-access-token", 3, 0, checks.SeverityCritical},
		{"documented AWS example", "README.md", numbered(1, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"), "", 0, 0, ""},
		{"stripe live key", "pay.py", numbered(1, `stripe.api_key = "`+stripeLive+`"`), "stripe-access-token", 1, 0, checks.SeverityCritical},
		{"stripe test key is medium", "pay.py", numbered(1, `stripe.api_key = "`+stripeTest+`"`), "stripe-access-token", 1, 0, checks.SeverityMedium},
		{"private key block on consecutive lines", "id_rsa", numbered(5, key...), "private-key", 5, 9, checks.SeverityCritical},
		{"private key block broken by a context line is not whole", "id_rsa",
			append(numbered(5, key[:2]...), numbered(8, key[2:]...)...), "", 0, 0, ""},
		{"postgres URL with password", "config/database.yml", numbered(2, "  url: postgres://app:Zx8#kP2vQ9mL@db.internal:5432/app"), "escapegate-connection-string", 2, 0, checks.SeverityCritical},
		{"postgres URL with env password", "config/database.yml", numbered(2, "  url: postgres://app:${DB_PASSWORD}@db.internal:5432/app"), "", 0, 0, ""},
		{"jdbc password parameter", "app.properties", numbered(1, "db.url=jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Qw7!rT9zX2pL"), "escapegate-connection-string-password-param", 1, 0, checks.SeverityCritical},
		{"password with symbols", "settings.py", numbered(1, `DB_PASSWORD = "h7$Kq!2vR#9wLz"`), "escapegate-password-assignment", 1, 0, checks.SeverityHigh},
		{"password from environment", "settings.py", numbered(1, `DB_PASSWORD = os.environ["DB_PASSWORD"]`), "", 0, 0, ""},
		{"password placeholder", "README.md", numbered(1, `password: "<your-password>"`), "", 0, 0, ""},
		{"uuid under a key word is an id", "ids.go", numbered(1, `cacheKey := "3f2504e0-4f89-41d3-9a0c-0305e82c3301"`), "", 0, 0, ""},
		{"hash in a lock file", "Cargo.lock", numbered(1, `checksum = "`+strings.Repeat("a1b2c3d4", 8)+`"`), "", 0, 0, ""},
		{"removed-only file has nothing", "x.go", nil, "", 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := e.ScanFile(testFP, "org/repo", tc.path, tc.added, nil)
			if tc.wantRule == "" {
				if len(fs) != 0 {
					t.Fatalf("want no finding, got %+v", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("want 1 finding of %s, got %+v", tc.wantRule, fs)
			}
			f := fs[0]
			if f.Rule != tc.wantRule || f.Line != tc.wantLine || f.EndLine != tc.wantEnd || f.Severity != tc.wantSev {
				t.Errorf("got rule %s line %d-%d severity %s, want %s line %d-%d %s", f.Rule, f.Line, f.EndLine, f.Severity, tc.wantRule, tc.wantLine, tc.wantEnd, tc.wantSev)
			}
			if f.Category != checks.CategorySecret || f.Fix == "" || f.Fingerprint == "" || f.Path != tc.path {
				t.Errorf("incomplete finding %+v", f)
			}
			for _, l := range tc.added {
				for _, part := range strings.Fields(l.Text) {
					if len(part) > 12 && (strings.Contains(f.Message, part) || strings.Contains(f.Redacted, part)) {
						t.Errorf("message or redaction shows the value: %q / %q", f.Message, f.Redacted)
					}
				}
			}
		})
	}
}

func TestMessageFormat(t *testing.T) {
	e := mustEngine(t, Options{})
	fs := e.ScanFile(testFP, "org/repo", "a.go", numbered(1, `x := "`+ghToken+`"`), nil)
	if len(fs) != 1 {
		t.Fatalf("got %+v", fs)
	}
	want := "GitHub personal access token `ghp_… (32–63 chars)`"
	if fs[0].Message != want || fs[0].Redacted != "ghp_… (32–63 chars)" {
		t.Errorf("message %q redacted %q, want %q", fs[0].Message, fs[0].Redacted, want)
	}
}

func TestSuppressions(t *testing.T) {
	e := mustEngine(t, Options{})
	line := `token = "` + ghToken + `"`
	tests := []struct {
		name               string
		added, removed     []diff.Line
		suppressed, onBase bool
	}{
		{"no marker", numbered(4, line), nil, false, false},
		{"gitleaks:allow added by the PR", numbered(4, line+" # gitleaks:allow"), nil, true, false},
		{"escapegate:allow added by the PR", numbered(4, line+" // escapegate:allow"), numbered(4, line), true, false},
		{"suppressed line already on base (re-indented, moved)", numbered(9, "  "+line+" # escapegate:allow"), numbered(4, line+" # escapegate:allow"), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := e.ScanFile(testFP, "org/repo", "a.py", tc.added, tc.removed)
			if len(fs) != 1 {
				t.Fatalf("got %+v", fs)
			}
			if fs[0].Suppressed != tc.suppressed || fs[0].SuppressedOnBase != tc.onBase {
				t.Errorf("suppressed %v on base %v, want %v %v", fs[0].Suppressed, fs[0].SuppressedOnBase, tc.suppressed, tc.onBase)
			}
		})
	}
}

func TestFingerprintFollowsTheValue(t *testing.T) {
	e := mustEngine(t, Options{})
	a := e.ScanFile(testFP, "org/repo", "a.go", numbered(3, `t := "`+ghToken+`"`), nil)
	b := e.ScanFile(testFP, "org/repo", "b/c.go", numbered(90, `	return '`+ghToken+`', nil`), nil)
	other := e.ScanFile(testFP, "org/other", "a.go", numbered(3, `t := "`+ghToken+`"`), nil)
	if len(a) != 1 || len(b) != 1 || len(other) != 1 {
		t.Fatalf("got %v %v %v", a, b, other)
	}
	if a[0].Fingerprint != b[0].Fingerprint {
		t.Error("moving the value to another line, file and quoting changed its fingerprint")
	}
	if a[0].Fingerprint == other[0].Fingerprint {
		t.Error("the same value in another repository has the same fingerprint")
	}
}

func TestDedupeKeepsTheSpecificRule(t *testing.T) {
	e := mustEngine(t, Options{})
	// generic-api-key also matches "api_token = <github token>".
	fs := e.ScanFile(testFP, "org/repo", "a.py", numbered(1, `api_token = "`+ghToken+`"`), nil)
	all := e.scan(testFP, "org/repo", "a.py", numbered(1, `api_token = "`+ghToken+`"`), nil, false)
	if !rulesFound(all)["generic-api-key"] {
		t.Fatalf("precondition: generic-api-key should match too, got %v", all)
	}
	if len(fs) != 1 || fs[0].Rule != "github-pat" {
		t.Errorf("want only github-pat, got %+v", fs)
	}
}

func TestPolicyRules(t *testing.T) {
	policy := []byte(`
[[rules]]
id = "acme-internal-token"
description = "ACME internal service token"
regex = '''\bacme_[a-z0-9]{24}\b'''
keywords = ["acme_"]
tags = ["severity:high"]

[[allowlists]]
description = "policy's global allowlist: may not silence default rules"
regexes = ['''^ghp_''', '''^acme_0{24}$''']
`)
	e := mustEngine(t, Options{ExtraRulesTOML: policy})
	acme := "acme_" + strings.Repeat("k3y9", 6)
	fs := e.ScanFile(testFP, "org/repo", "a.go", numbered(1, `x := "`+acme+`"`, `y := "`+ghToken+`"`, `z := "acme_`+strings.Repeat("0", 24)+`"`), nil)
	got := map[string]int{}
	for _, f := range fs {
		got[f.Rule] = f.Line
		if f.Rule == "acme-internal-token" && f.Severity != checks.SeverityHigh {
			t.Errorf("policy severity tag ignored: %s", f.Severity)
		}
	}
	if got["acme-internal-token"] != 1 || got["github-pat"] != 2 || len(fs) != 2 {
		t.Errorf("want the policy rule on line 1 and github-pat (not silenced by policy) on line 2, got %+v", fs)
	}
	var src string
	for _, r := range e.Rules() {
		if r.ID == "acme-internal-token" {
			src = r.Source
		}
	}
	if src != SourcePolicy {
		t.Errorf("policy rule source %q", src)
	}

	for name, bad := range map[string]string{
		"replaces a default": "[[rules]]\nid = \"github-pat\"\nregex = '''x'''\n",
		"bad regex":          "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
		"composite rule":     "[[rules]]\nid = \"x\"\nregex = '''x'''\n[[rules.required]]\nid = \"github-pat\"\n",
		"not TOML":           "[[rules]\n",
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("New panicked: %v", r)
				}
			}()
			if _, err := New(Options{ExtraRulesTOML: []byte(bad)}); err == nil {
				t.Error("want an error")
			}
		})
	}
}

func TestRulesSortedWithSeverity(t *testing.T) {
	rs := mustEngine(t, Options{}).Rules()
	if len(rs) < 220 {
		t.Fatalf("only %d rules", len(rs))
	}
	for i, r := range rs {
		if i > 0 && rs[i-1].ID >= r.ID {
			t.Errorf("not sorted at %s", r.ID)
		}
		if r.Severity.Rank() == 0 || r.Source == "" || r.Description == "" {
			t.Errorf("incomplete rule %+v", r)
		}
	}
}

// A long line is scanned whole in overlapping windows: a key after 300 KB on one line is
// found, once, wherever it lies against the windows' cuts, and on its line.
func TestLongLineIsScannedInWindows(t *testing.T) {
	e := mustEngine(t, Options{})
	step := LineWindow - LineOverlap
	for _, at := range []int{300 << 10, step - 10, step, step + LineOverlap - 20, LineWindow - 5, LineWindow, 2*step + 7, 1 << 20} {
		pad := strings.Repeat("a=1;", at/4+1)
		long := pad[:at] + `k="` + ghToken + `";` + strings.Repeat("b=2;", 5000)
		fs := e.ScanFile(testFP, "org/repo", "app.min.js", append(numbered(7, "x=1"), numbered(8, long)...), nil)
		if len(fs) != 1 || fs[0].Line != 8 || fs[0].Rule != "github-pat" {
			t.Errorf("token at byte %d: findings %+v, want one github-pat on line 8", at, fs)
		}
	}
	short := strings.Repeat("a=1;", 1000) + `k="` + ghToken + `"`
	if fs := e.ScanFile(testFP, "org/repo", "app.min.js", numbered(1, short), nil); len(fs) != 1 {
		t.Errorf("a value in a long minified line was missed: %+v", fs)
	}
	// Two different tokens on one long line are two findings.
	two := strings.Repeat("a=1;", 100000) + `k="` + ghToken + `";` + strings.Repeat("c=3;", 50000) + `j="` + otherGhToken() + `"`
	if fs := e.ScanFile(testFP, "org/repo", "app.min.js", numbered(1, two), nil); len(fs) != 2 {
		t.Errorf("two tokens on one long line: %+v", fs)
	}
}

func otherGhToken() string { return "ghp_" + "Q1w2E3r4T5y6U7i8O9p0" + "A1s2D3f4G5h6J7k8" }

// TestBuiltinRulesDecodeAsViper: the built-in rule files decode to the same
// ViperConfig with go-toml as with viper, gitleaks' own reader of a config.
func TestBuiltinRulesDecodeAsViper(t *testing.T) {
	for name, data := range map[string][]byte{"gitleaks defaults": []byte(config.DefaultConfig), "escapegate rules": escapegateRulesTOML} {
		direct, err := decodeRulesTOML(data, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		viaViper, err := decodeRulesTOML(data, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(direct.Rules) < 10 {
			t.Fatalf("%s: %d rules decoded", name, len(direct.Rules))
		}
		if !reflect.DeepEqual(direct, viaViper) {
			for i := range min(len(direct.Rules), len(viaViper.Rules)) {
				if !reflect.DeepEqual(direct.Rules[i], viaViper.Rules[i]) {
					t.Errorf("%s: rule %d: go-toml %+v, viper %+v", name, i, direct.Rules[i], viaViper.Rules[i])
					break
				}
			}
			t.Fatalf("%s: go-toml and viper decode it differently", name)
		}
	}
}
