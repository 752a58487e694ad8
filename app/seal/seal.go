// Package seal encrypts what escapegate must keep in its store but must not keep in
// plaintext: webhook payloads waiting in the inbox, the policy files its cache holds.
// The key is derived from the fingerprint key, which is kept outside the store, so a copy
// of the store file alone reads none of it. bbolt keeps deleted records' bytes in its
// free pages, so sealing is the only way to keep a file free of them.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Sealer seals with AES-256-GCM under a key derived from the fingerprint key and a
// purpose. A sealed value is a JSON string ("egs1:" and base64), so a JSON column takes
// it too.
type Sealer struct{ aead cipher.AEAD }

const sealPrefix = "egs1:"

// Purposes name what a key seals: each derives a key of its own.
const (
	Payloads    = "escapegate inbox payload key v1"
	PolicyCache = "escapegate policy cache key v1"
)

// New derives the sealing key of purpose from the fingerprint key.
func New(fingerprintKey []byte, purpose string) (*Sealer, error) {
	if len(fingerprintKey) == 0 {
		return nil, errors.New("no fingerprint key to derive a sealing key from")
	}
	m := hmac.New(sha256.New, fingerprintKey)
	m.Write([]byte(purpose))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns plain encrypted, bound to id, as a JSON string.
func (s *Sealer) Seal(plain []byte, id string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := s.aead.Seal(nonce, nonce, plain, []byte(id))
	return json.Marshal(sealPrefix + base64.StdEncoding.EncodeToString(ct))
}

// Open returns the plaintext of a sealed value; a value that is not sealed (written by an
// older version) is returned as it is.
func (s *Sealer) Open(stored []byte, id string) ([]byte, error) {
	if len(stored) == 0 || stored[0] != '"' {
		return stored, nil
	}
	var str string
	if err := json.Unmarshal(stored, &str); err != nil || len(str) < len(sealPrefix) || str[:len(sealPrefix)] != sealPrefix {
		return stored, nil
	}
	ct, err := base64.StdEncoding.DecodeString(str[len(sealPrefix):])
	if err != nil || len(ct) < s.aead.NonceSize() {
		return nil, fmt.Errorf("sealed value of %s: malformed", id)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, ct[:n], ct[n:], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("sealed value of %s: cannot be opened (another fingerprint key?): %w", id, err)
	}
	return plain, nil
}
