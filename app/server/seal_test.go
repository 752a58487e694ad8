package server

import (
	"bytes"
	"testing"
)

func TestSealRoundTripAndTamper(t *testing.T) {
	s, err := newSealer([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"action":"opened","pull_request":{"title":"ghp_secret"}}`)
	sealed, err := s.seal(plain, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("ghp_secret")) || sealed[0] != '"' {
		t.Fatalf("sealed %s", sealed)
	}
	got, err := s.open(sealed, "d1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %s %v", got, err)
	}
	if _, err := s.open(sealed, "d2"); err == nil {
		t.Error("a sealed payload opened under another delivery id")
	}
	other, _ := newSealer([]byte("other"))
	if _, err := other.open(sealed, "d1"); err == nil {
		t.Error("a sealed payload opened under another key")
	}
	// A payload an older version queued in plaintext is handled as it is.
	if got, err := s.open(plain, "d1"); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("plaintext payload: %s %v", got, err)
	}
}
