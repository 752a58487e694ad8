package secrets

import (
	"regexp"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

var redactedForm = regexp.MustCompile(`^(.*)… \((under 8|8–15|16–31|32–63|64\+) chars\)$`)

// TestRedactedShowsOnlyTheDocumentedPrefix: for each kind of secret, the redacted form
// is the format's documented prefix (or nothing) and a length range: no other character
// of the secret, and never one of a password, a connection string or a generic value.
func TestRedactedShowsOnlyTheDocumentedPrefix(t *testing.T) {
	e := mustEngine(t, Options{})
	slack := "xoxb-" + "1234567890123-1234567890123-" + "aB3dE5fG7hJ9kL1mN3pQrS5t"
	tests := []struct {
		name, path, line, secret, prefix string
	}{
		{"github token", "main.go", `const tok = "` + ghToken + `"`, ghToken, "ghp_"},
		{"aws key id", "deploy.sh", "export AWS_ACCESS_KEY_ID=" + awsKey, awsKey, "AKIA"},
		{"stripe live key", "pay.py", `stripe.api_key = "` + stripeLive + `"`, stripeLive, "sk_live_"},
		{"slack bot token", "bot.js", `const token = "` + slack + `"`, slack, "xoxb-"},
		{"password assignment", "settings.py", `DB_PASSWORD = "h7$Kq!2vR#9wLz"`, "h7$Kq!2vR#9wLz", ""},
		{"short password", "app.properties", "db.url=jdbc:sqlserver://db:1433;user=sa;password=Qw7!rT9zX2p", "Qw7!rT9zX2p", ""},
		{"connection string", "config/database.yml", "  url: postgres://app:Zx8#kP2vQ9mL@db.internal:5432/app", "Zx8#kP2vQ9mL", ""},
		{"password parameter", "app.properties", "db.url=jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Qw7!rT9zX2pL", "Qw7!rT9zX2pL", ""},
		{"generic api key", "client.go", `apiKey := "Xq7Lm2Pz9Rt4Vw8Ky3Nb6Hd1"`, "Xq7Lm2Pz9Rt4Vw8Ky3Nb6Hd1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := e.ScanFile(testFP, "org/repo", tc.path, numbered(1, tc.line), nil)
			if len(fs) == 0 {
				t.Fatalf("no finding in %s", checks.Redact(tc.line))
			}
			for _, f := range fs {
				m := redactedForm.FindStringSubmatch(f.Redacted)
				if m == nil {
					t.Fatalf("%s: redacted form %q is not prefix… (range)", f.Rule, f.Redacted)
				}
				if m[1] != tc.prefix {
					t.Errorf("%s: redacted %q shows %q, want the documented prefix %q", f.Rule, f.Redacted, m[1], tc.prefix)
				}
				// No run of 3 characters of the secret beyond its prefix anywhere in what is shown.
				rest := strings.TrimPrefix(tc.secret, tc.prefix)
				shown := f.Message + " " + strings.TrimPrefix(f.Redacted, m[1])
				for i := 0; i+3 <= len(rest); i++ {
					if strings.Contains(shown, rest[i:i+3]) {
						t.Errorf("%s: %q shows %q of the secret", f.Rule, shown, rest[i:i+3])
					}
				}
			}
		})
	}
}

// TestDisplayPrefixesOfEveryRule: a rule's display prefixes are literals of its regex,
// and rules of passwords, generic and high-entropy values have none.
func TestDisplayPrefixesOfEveryRule(t *testing.T) {
	rs, _, err := compileRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	with := 0
	for _, r := range rs {
		for _, s := range noPrefixRules {
			if strings.Contains(r.id, s) && len(r.prefixList()) > 0 {
				t.Errorf("%s: a %s rule shows prefixes %v", r.id, s, r.prefixList())
			}
		}
		for _, p := range r.prefixList() {
			if r.re != nil && !strings.Contains(strings.ReplaceAll(r.re.String(), `\`, ""), p[:1]) {
				t.Errorf("%s: prefix %q not in its regex", r.id, p)
			}
		}
		if len(r.prefixList()) > 0 {
			with++
		}
	}
	byID := map[string][]string{}
	for _, r := range rs {
		byID[r.id] = r.prefixList()
	}
	for id, want := range map[string]string{"github-pat": "ghp_", "aws-access-token": "AKIA", "slack-bot-token": "xoxb-", "stripe-access-token": "sk_live_"} {
		found := false
		for _, p := range byID[id] {
			found = found || p == want
		}
		if !found {
			t.Errorf("%s: prefixes %v lack %q", id, byID[id], want)
		}
	}
	if len(byID["generic-api-key"]) != 0 || len(byID["escapegate-password-assignment"]) != 0 {
		t.Errorf("generic rules have prefixes")
	}
	t.Logf("%d of %d rules show a documented prefix", with, len(rs))
}
