package dashboard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSignerVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := signer{key: []byte("0123456789abcdef0123456789abcdef")}
	good, err := s.sign("session", Session{Login: "sec-lead", Orgs: []string{"acme"}, Expires: now.Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := s.sign("session", Session{Login: "sec-lead", Expires: now.Unix()})
	flowV, _ := s.sign("flow", Session{Login: "sec-lead", Expires: now.Add(time.Hour).Unix()})
	p, sig, _ := strings.Cut(good, ".")
	forged, _ := s.sign("session", Session{Login: "mallory", Orgs: []string{"acme"}, Expires: now.Add(time.Hour).Unix()})
	fp, _, _ := strings.Cut(forged, ".")
	other := signer{key: []byte("another key of at least 16 bytes")}
	for _, tc := range []struct {
		name, value string
		s           signer
		ok          bool
	}{
		{"valid", good, s, true},
		{"expired", expired, s, false},
		{"a flow cookie as a session", flowV, s, false},
		{"payload swapped under the signature", fp + "." + sig, s, false},
		{"no signature", p, s, false},
		{"another key", good, other, false},
		{"garbage", "a.b", s, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Session
			err := tc.s.verify("session", tc.value, now, &got, func() int64 { return got.Expires })
			if (err == nil) != tc.ok {
				t.Fatalf("verify: %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (got.Login != "sec-lead" || !got.canSee("ACME") || got.canSee("other")) {
				t.Errorf("session %+v", got)
			}
		})
	}
}

func TestSessionKey(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose")
	tight := filepath.Join(dir, "tight")
	_ = os.WriteFile(loose, []byte("0123456789abcdef0123"), 0o644)
	_ = os.Chmod(loose, 0o644)
	_ = os.WriteFile(tight, []byte("0123456789abcdef0123\n"), 0o600)
	fk := []byte("fingerprint key")
	derived, err := SessionKey("", "", fk)
	if err != nil || len(derived) != 32 || strings.Contains(string(derived), string(fk)) {
		t.Fatalf("derived key %x, %v", derived, err)
	}
	if k, err := SessionKey("", tight, fk); err != nil || string(k) != "0123456789abcdef0123" {
		t.Errorf("key file: %q, %v", k, err)
	}
	if _, err := SessionKey("", loose, fk); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Errorf("a 0644 key file: %v", err)
	}
	if k, err := SessionKey("explicit key value", tight, fk); err != nil || string(k) != "explicit key value" {
		t.Errorf("explicit key: %q, %v", k, err)
	}
	if _, err := SessionKey("", "", nil); err == nil {
		t.Error("no key at all was accepted")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/org/acme":         "/ui/org/acme",
		"":                     "/ui/",
		"https://evil.example": "/ui/",
		"//evil.example/ui/":   "/ui/",
		"/ui/\\evil":           "/ui/",
		"/api/report":          "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
