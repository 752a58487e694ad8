package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/store"
)

// LegacyKeySetting is the store setting where older versions kept the generated
// fingerprint key; serve moves a key found there out of the store (FingerprintKey).
const LegacyKeySetting = "fingerprint_key"

// KeyOptions say where the fingerprint key comes from. The key is kept outside the
// store, so that a copy of the database does not allow offline guessing of short
// secrets from their fingerprints.
type KeyOptions struct {
	// Key is fingerprint_key (or ESCAPEGATE_FINGERPRINT_KEY).
	Key string
	// Path is fingerprint_key_path: a file of mode 0600 or stricter.
	Path string
	// DefaultPath is where a key is generated when neither is set: next to the bbolt
	// file (<db>.fingerprint-key). Empty for PostgreSQL, which then refuses to start.
	DefaultPath string
	Log         zerolog.Logger
}

// GenerateKeyHint says how an operator creates a key file.
const GenerateKeyHint = "create one with: (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /etc/escapegate/fingerprint-key) " +
	"and set fingerprint_key_path: /etc/escapegate/fingerprint-key (or ESCAPEGATE_FINGERPRINT_KEY)"

// FingerprintKey returns the fingerprint key: fingerprint_key, else the file at
// fingerprint_key_path, else the file at DefaultPath (generated there, mode 0600, on
// first start). A key that an older version kept in the store's fingerprint_key
// setting is moved out: written to the key file (0600) when none exists yet, then the
// setting is deleted, and the move is logged.
func FingerprintKey(ctx context.Context, st store.Store, o KeyOptions) ([]byte, error) {
	legacy, err := st.GetSetting(ctx, LegacyKeySetting)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("reading the store's fingerprint_key setting: %w", err)
	}
	legacy = bytes.TrimSpace(legacy)
	dropLegacy := func(why string) error {
		if len(legacy) == 0 {
			return nil
		}
		if err := st.DeleteSetting(ctx, LegacyKeySetting); err != nil {
			return fmt.Errorf("deleting the store's fingerprint_key setting: %w", err)
		}
		o.Log.Warn().Str("reason", why).Msg("fingerprint key: removed the key an older version kept in the store's fingerprint_key setting")
		return nil
	}
	if o.Key != "" {
		why := "fingerprint_key is configured and the store's key was the same"
		if !bytes.Equal(legacy, []byte(o.Key)) {
			why = "fingerprint_key is configured and wins; the store's key was not in use"
		}
		return []byte(o.Key), dropLegacy(why)
	}
	path := o.Path
	if path == "" {
		path = o.DefaultPath
	}
	if path == "" {
		if len(legacy) > 0 {
			return nil, errors.New("the store holds the fingerprint key (fingerprint_key setting of an older version), and a PostgreSQL store needs one outside it: " +
				"set fingerprint_key_path to a file that does not exist yet and serve moves the key there, or set fingerprint_key (ESCAPEGATE_FINGERPRINT_KEY) to the same value")
		}
		return nil, errors.New("a PostgreSQL store needs a fingerprint key outside it (every replica the same): " + GenerateKeyHint)
	}
	key, err := ReadKeyFile(path)
	switch {
	case err == nil:
		why := "the key file holds the same key"
		if len(legacy) > 0 && !bytes.Equal(legacy, key) {
			why = "the key file " + path + " wins; the store's key was not in use"
		}
		return key, dropLegacy(why)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	// No key file yet: the store's old key moves there, or a new one is generated.
	key = legacy
	moved := len(key) > 0
	if !moved {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("generating fingerprint key: %w", err)
		}
		key = []byte(hex.EncodeToString(buf))
	}
	if err := writeKeyFile(path, key); err != nil {
		return nil, err
	}
	if moved {
		if err := st.DeleteSetting(ctx, LegacyKeySetting); err != nil {
			return nil, fmt.Errorf("deleting the store's fingerprint_key setting (the key is now in %s): %w", path, err)
		}
		o.Log.Warn().Str("path", path).Msg("fingerprint key: moved the key an older version kept in the store to this file (mode 0600) and deleted the store's fingerprint_key setting; back the file up with the store")
	} else {
		o.Log.Info().Str("path", path).Msg("fingerprint key: generated into this file (mode 0600); back it up with the store, fingerprints depend on it")
	}
	return key, nil
}

// ReadKeyFile reads a fingerprint key file, refusing one that group or others may
// read or write (mode 0600 or stricter).
func ReadKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("fingerprint key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fingerprint key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("fingerprint key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("fingerprint key file %s has mode %04o: it must be 0600 or stricter (chmod 600 %s)", path, perm, path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return nil, fmt.Errorf("fingerprint key file: %w", err)
	}
	if len(buf) > 4096 {
		return nil, fmt.Errorf("fingerprint key file %s is longer than 4096 bytes", path)
	}
	key := bytes.TrimSpace(buf)
	if len(key) < 16 {
		return nil, fmt.Errorf("fingerprint key file %s holds %d bytes: want at least 16 (%s)", path, len(key), GenerateKeyHint)
	}
	return key, nil
}

// writeKeyFile creates path with mode 0600; it never replaces an existing file.
func writeKeyFile(path string, key []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing fingerprint key file: %w", err)
	}
	if _, err := f.Write(append(append([]byte(nil), key...), '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing fingerprint key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing fingerprint key file: %w", err)
	}
	return f.Close()
}
