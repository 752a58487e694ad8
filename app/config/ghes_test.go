package config

import (
	"testing"
	"time"
)

func TestEnterprise(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://api.github.com/", false},
		{"https://API.GitHub.com", false},
		{"https://api.octocorp.ghe.com/", false},
		{"https://ghes.example.com/api/v3/", true},
		{"http://127.0.0.1:8080/api/v3/", true},
		{"", false},
		{"::", false},
	}
	for _, tc := range tests {
		if got := Enterprise(tc.url); got != tc.want {
			t.Errorf("Enterprise(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

// TestRecoveryWindowFollowsTheHost: unless set, recovery.window is how long the
// configured host keeps deliveries (GitHub Enterprise Server keeps 7 days).
func TestRecoveryWindowFollowsTheHost(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want time.Duration
	}{
		{name: "github.com by default", want: 72 * time.Hour},
		{name: "github.com named", file: "github:\n  v3_api_url: https://api.github.com/\n", want: 72 * time.Hour},
		{name: "GHES", file: "github:\n  v3_api_url: https://ghes.example.com/api/v3/\n", want: 168 * time.Hour},
		{name: "GHES from the environment", env: map[string]string{"ESCAPEGATE_GITHUB_V3_API_URL": "https://ghes.example.com/api/v3/"}, want: 168 * time.Hour},
		{name: "GHES, window set", file: "github:\n  v3_api_url: https://ghes.example.com/api/v3/\nrecovery:\n  window: 24h\n", want: 24 * time.Hour},
		{name: "github.com, window set by the environment", env: map[string]string{"ESCAPEGATE_RECOVERY_WINDOW": "48h"}, want: 48 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			c, err := Load(path, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			if c.Recovery.Window != tc.want {
				t.Fatalf("recovery.window = %s, want %s", c.Recovery.Window, tc.want)
			}
		})
	}
}
