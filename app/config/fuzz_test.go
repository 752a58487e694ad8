package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: any YAML bytes as the server configuration load or fail with an error,
// never a panic; a loaded configuration keeps the defaults it did not set.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"listen: 127.0.0.1:8080\nstore: bolt:x.db\n",
		"github:\n  app:\n    integration_id: 12\n    webhook_secret: s\n",
		"queue: {size: 10, workers: 2, max_bytes: 1024}\nretry: {max_attempts: 3, base_backoff: 2s}\n",
		"recovery:\n  interval: 0s\n  window: 72h\n",
		"fingerprint_key_path: /k\nunknown: 1\n",
		"- a\n- b\n",
		"a: &a [*a]\n",
		"queue:\n  size: ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "c.yml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, func(string) (string, bool) { return "", false })
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if c.GitHub.WebURL == "" && !strings.Contains(string(data), "web_url") {
			t.Fatalf("the default web_url was lost: %+v", c)
		}
	})
}

// TestErrorsDoNotQuoteSecrets: a secret put where a number or duration belongs is not
// quoted back in the error (which serve prints and logs).
func TestErrorsDoNotQuoteSecrets(t *testing.T) {
	tok := "ghp_" + "Ee4dUi6Jo8Kp1Lq3Mr5Ns7Ot9Pu0Qv2Rw4Sx"
	for _, doc := range []string{"queue:\n  size: " + tok + "\n", "github:\n  app:\n    integration_id: " + tok + "\n", "policy_ttl: " + tok + "\n"} {
		p := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p, func(string) (string, bool) { return "", false })
		if err == nil || strings.Contains(err.Error(), tok[4:12]) || !strings.Contains(err.Error(), "line") {
			t.Errorf("%q: %v", doc, err)
		}
	}
	// A plain wrong value is still named.
	p := filepath.Join(t.TempDir(), "c.yml")
	_ = os.WriteFile(p, []byte("policy_ttl: soon\n"), 0o600)
	if _, err := Load(p, func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), `"soon"`) {
		t.Errorf("plain value: %v", err)
	}
}
