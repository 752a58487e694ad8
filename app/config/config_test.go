package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{
			name: "file values",
			file: "listen: 0.0.0.0:9000\ngithub:\n  v3_api_url: http://fake/\n  app:\n    integration_id: 42\n    webhook_secret: s3\nstore: bolt:/tmp/x.db\npolicy_ttl: 1m\n",
			check: func(t *testing.T, c Config) {
				if c.Listen != "0.0.0.0:9000" || c.GitHub.V3APIURL != "http://fake/" || c.GitHub.App.IntegrationID != 42 ||
					c.GitHub.App.WebhookSecret != "s3" || c.Store != "bolt:/tmp/x.db" || c.PolicyTTL != time.Minute {
					t.Errorf("got %+v", c)
				}
				if c.LogLevel != "info" {
					t.Errorf("default log level lost: %q", c.LogLevel)
				}
			},
		},
		{
			name: "environment wins",
			file: "github:\n  app:\n    webhook_secret: fromfile\n",
			env:  map[string]string{"ESCAPEGATE_GITHUB_APP_WEBHOOK_SECRET": "fromenv", "ESCAPEGATE_QUEUE_SIZE": "7"},
			check: func(t *testing.T, c Config) {
				if c.GitHub.App.WebhookSecret != "fromenv" || c.Queue.Size != 7 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "unknown key has its line", file: "listen: x\ngithub:\n  app:\n    integraton_id: 1\n", wantErr: "line 4: unknown key \"github.app.integraton_id\""},
		{name: "bad number", file: "queue:\n  size: lots\n", wantErr: "line 2"},
		{name: "bad env", env: map[string]string{"ESCAPEGATE_QUEUE_WORKERS": "x"}, wantErr: "ESCAPEGATE_QUEUE_WORKERS"},
		{name: "empty file", file: "", check: func(t *testing.T, c Config) {
			if c.Listen != Default().Listen {
				t.Errorf("got %+v", c)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" || tc.check != nil {
				path = writeFile(t, tc.file)
			}
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			c, err := Load(path, env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestPrivateKeyPathAndValidate(t *testing.T) {
	pem := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(pem, []byte("PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, "github:\n  app:\n    private_key_path: "+pem+"\n")
	c, err := Load(p, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	if c.GitHub.App.PrivateKey != "PEM" {
		t.Fatalf("private key not read from path")
	}
	err = c.ValidateServe()
	if err == nil || !strings.Contains(err.Error(), "ESCAPEGATE_GITHUB_APP_INTEGRATION_ID") || !strings.Contains(err.Error(), "webhook_secret") {
		t.Fatalf("ValidateServe = %v", err)
	}
}

// The shipped example configuration must load: every key it documents is a real key.
func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "deploy", "config.example.yml"), func(k string) (string, bool) {
		if k == EnvName("github.app.private_key") {
			return "pem", true // private_key_path names a file that exists only in production
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Queue.MaxBytes != 268435456 {
		t.Errorf("queue.max_bytes = %d", c.Queue.MaxBytes)
	}
	c, err = Load("", func(k string) (string, bool) {
		if k == "ESCAPEGATE_QUEUE_MAX_BYTES" {
			return "1024", true
		}
		return "", false
	})
	if err != nil || c.Queue.MaxBytes != 1024 {
		t.Errorf("ESCAPEGATE_QUEUE_MAX_BYTES: %d, %v", c.Queue.MaxBytes, err)
	}
}

func TestRecoveryKeys(t *testing.T) {
	d := Default().Recovery
	if d.Interval != 5*time.Minute || d.Window != 72*time.Hour || d.MaxPerRun != 100 || d.Pace != 200*time.Millisecond || d.InstallationsInterval != 24*time.Hour || d.ExpiryInterval != 10*time.Minute {
		t.Errorf("defaults = %+v", d)
	}
	p := writeFile(t, "recovery:\n  interval: 10m\n  window: 168h\n  max_per_run: 20\n  pace: 1s\n  expiry_interval: 0s\n")
	c, err := Load(p, func(k string) (string, bool) {
		if k == "ESCAPEGATE_RECOVERY_INSTALLATIONS_INTERVAL" {
			return "6h", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Recovery{Interval: 10 * time.Minute, Window: 168 * time.Hour, MaxPerRun: 20, Pace: time.Second, InstallationsInterval: 6 * time.Hour}
	if c.Recovery != want {
		t.Errorf("recovery = %+v, want %+v", c.Recovery, want)
	}
	if _, err := Load(writeFile(t, "recovery:\n  windw: 1h\n"), func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), `line 2: unknown key "recovery.windw"`) {
		t.Errorf("unknown recovery key: %v", err)
	}

	valid := Default()
	valid.GitHub.App.IntegrationID, valid.GitHub.App.PrivateKey, valid.GitHub.App.WebhookSecret = 1, "pem", "s"
	for _, tc := range []struct {
		name string
		set  func(*Recovery)
		ok   bool
	}{
		{"defaults", func(*Recovery) {}, true},
		{"sweep off", func(r *Recovery) { r.Interval, r.MaxPerRun = 0, 0 }, true},
		{"no bound", func(r *Recovery) { r.MaxPerRun = 0 }, false},
		{"no window", func(r *Recovery) { r.Window = 0 }, false},
		{"negative pace", func(r *Recovery) { r.Pace = -time.Second }, false},
	} {
		c := valid
		tc.set(&c.Recovery)
		if err := c.ValidateServe(); (err == nil) != tc.ok {
			t.Errorf("%s: ValidateServe = %v", tc.name, err)
		}
	}
}

func TestRetryKeys(t *testing.T) {
	d := Default().Retry
	if d != (Retry{MaxAttempts: 10, MaxAge: 24 * time.Hour, BaseBackoff: 2 * time.Second, MaxBackoff: time.Hour, StuckAfter: 15 * time.Minute}) {
		t.Errorf("defaults = %+v", d)
	}
	c, err := Load(writeFile(t, "retry:\n  max_attempts: 4\n  base_backoff: 10ms\n"), func(k string) (string, bool) {
		if k == "ESCAPEGATE_RETRY_MAX_AGE" {
			return "1h", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Retry{MaxAttempts: 4, MaxAge: time.Hour, BaseBackoff: 10 * time.Millisecond, MaxBackoff: time.Hour, StuckAfter: 15 * time.Minute}
	if c.Retry != want {
		t.Errorf("retry = %+v, want %+v", c.Retry, want)
	}
}

func TestUIKeys(t *testing.T) {
	d := Default().UI
	if !d.Enabled || d.SessionTTL != 8*time.Hour || d.Refresh != time.Minute || d.TeamList() != nil {
		t.Errorf("defaults = %+v", d)
	}
	p := writeFile(t, "ui:\n  enabled: false\n  teams: \"security, platform ,\"\n  session_key_path: /etc/escapegate/session-key\n  session_ttl: 1h\n")
	c, err := Load(p, func(k string) (string, bool) {
		if k == "ESCAPEGATE_UI_ENABLED" {
			return "true", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UI.Enabled || c.UI.SessionKeyPath != "/etc/escapegate/session-key" || c.UI.SessionTTL != time.Hour {
		t.Errorf("ui = %+v", c.UI)
	}
	if got := strings.Join(c.UI.TeamList(), "|"); got != "security|platform" {
		t.Errorf("teams = %q", got)
	}
	if _, err := Load(writeFile(t, "ui:\n  enabled: maybe\n"), func(string) (string, bool) { return "", false }); err == nil || !strings.Contains(err.Error(), "want true or false") {
		t.Errorf("bad bool: %v", err)
	}
}
