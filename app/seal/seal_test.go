package seal

import (
	"bytes"
	"testing"
)

func TestSealRoundTripAndTamper(t *testing.T) {
	s, err := newTest([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"action":"opened","pull_request":{"title":"ghp_secret"}}`)
	sealed, err := s.Seal(plain, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("ghp_secret")) || sealed[0] != '"' {
		t.Fatalf("sealed %s", sealed)
	}
	got, err := s.Open(sealed, "d1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %s %v", got, err)
	}
	if _, err := s.Open(sealed, "d2"); err == nil {
		t.Error("a sealed payload opened under another delivery id")
	}
	other, _ := newTest([]byte("other"))
	if _, err := other.Open(sealed, "d1"); err == nil {
		t.Error("a sealed payload opened under another key")
	}
	// A payload an older version queued in plaintext is handled as it is.
	if got, err := s.Open(plain, "d1"); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("plaintext payload: %s %v", got, err)
	}
}

func newTest(key []byte) (*Sealer, error) { return New(key, Payloads) }
