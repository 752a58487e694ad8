package server_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
)

func openBolt(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestFingerprintKeyGeneratedNextToTheStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "e.db")
	st := openBolt(t, db)
	defer st.Close()
	var logs bytes.Buffer
	o := server.KeyOptions{DefaultPath: db + ".fingerprint-key", Log: zerolog.New(&logs)}
	k1, err := server.FingerprintKey(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(o.DefaultPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v mode %v, want 0600", err, fi)
	}
	if _, err := st.GetSetting(ctx, server.LegacyKeySetting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the store holds a fingerprint_key setting: %v", err)
	}
	k2, err := server.FingerprintKey(ctx, st, o)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) < 32 {
		t.Fatalf("second start: %q %v, want the same key %q", k2, err, k1)
	}
	st.Close()
	raw, _ := os.ReadFile(db)
	if bytes.Contains(raw, k1) {
		t.Error("the bbolt file holds the fingerprint key")
	}
}

func TestFingerprintKeyMovedOutOfAnOldStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "e.db")
	st := openBolt(t, db)
	defer st.Close()
	old := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	if err := st.PutSetting(ctx, server.LegacyKeySetting, old); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o := server.KeyOptions{DefaultPath: db + ".fingerprint-key", Log: zerolog.New(&logs)}
	k, err := server.FingerprintKey(ctx, st, o)
	if err != nil || !bytes.Equal(k, old) {
		t.Fatalf("got %q %v, want the store's old key (fingerprints keep their identity)", k, err)
	}
	if _, err := st.GetSetting(ctx, server.LegacyKeySetting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the setting is still there: %v", err)
	}
	file, _ := os.ReadFile(o.DefaultPath)
	if !bytes.Equal(bytes.TrimSpace(file), old) {
		t.Errorf("key file holds %q", file)
	}
	if fi, _ := os.Stat(o.DefaultPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", fi.Mode())
	}
	if !strings.Contains(logs.String(), "moved the key") || bytes.Contains(logs.Bytes(), old) {
		t.Errorf("the move is not logged, or the log holds the key: %s", logs.String())
	}
}

func TestFingerprintKeySources(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openBolt(t, filepath.Join(dir, "e.db"))
	defer st.Close()

	// A configured key wins, and an old store key is deleted.
	_ = st.PutSetting(ctx, server.LegacyKeySetting, []byte("old-key-in-store-0123456789"))
	k, err := server.FingerprintKey(ctx, st, server.KeyOptions{Key: "configured-key", DefaultPath: filepath.Join(dir, "d.key"), Log: zerolog.Nop()})
	if err != nil || string(k) != "configured-key" {
		t.Fatalf("got %q %v", k, err)
	}
	if _, err := st.GetSetting(ctx, server.LegacyKeySetting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old setting kept: %v", err)
	}

	// A key file must be 0600 or stricter.
	p := filepath.Join(dir, "k")
	if err := os.WriteFile(p, []byte("file-key-0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = server.FingerprintKey(ctx, st, server.KeyOptions{Path: p, Log: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("a 0644 key file: %v, want a refusal naming 0600", err)
	}
	_ = os.Chmod(p, 0o400)
	k, err = server.FingerprintKey(ctx, st, server.KeyOptions{Path: p, Log: zerolog.Nop()})
	if err != nil || string(k) != "file-key-0123456789abcdef" {
		t.Fatalf("0400 key file: %q %v", k, err)
	}

	// PostgreSQL (no default path) refuses to start without a key, saying how to make one.
	_, err = server.FingerprintKey(ctx, st, server.KeyOptions{Log: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "fingerprint_key_path") || !strings.Contains(err.Error(), "urandom") {
		t.Fatalf("no key for PostgreSQL: %v", err)
	}
	// ... and, when its store holds an old key, says to move it out.
	_ = st.PutSetting(ctx, server.LegacyKeySetting, []byte("old-key-in-store-0123456789"))
	_, err = server.FingerprintKey(ctx, st, server.KeyOptions{Log: zerolog.Nop()})
	if err == nil || !strings.Contains(err.Error(), "moves the key") {
		t.Fatalf("old key on PostgreSQL: %v", err)
	}
	// ... which it does into a configured path that does not exist yet.
	np := filepath.Join(dir, "moved.key")
	k, err = server.FingerprintKey(ctx, st, server.KeyOptions{Path: np, Log: zerolog.Nop()})
	if err != nil || string(k) != "old-key-in-store-0123456789" {
		t.Fatalf("moved: %q %v", k, err)
	}
}
