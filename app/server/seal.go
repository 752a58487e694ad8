package server

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

// sealer encrypts webhook payloads while they wait in the durable inbox (AES-256-GCM
// under a key derived from the fingerprint key, which is kept outside the store): a
// payload holds what the PR author wrote (titles, bodies, labels, comments), and bbolt
// keeps the bytes of deleted records in its free pages, so the store file must never
// hold one in plaintext. A sealed payload is a JSON string ("egs1:" and base64), so the
// PostgreSQL inbox's JSON column takes it too.
type sealer struct{ aead cipher.AEAD }

const sealPrefix = "egs1:"

func newSealer(fingerprintKey []byte) (*sealer, error) {
	if len(fingerprintKey) == 0 {
		return nil, errors.New("no fingerprint key to derive the inbox key from")
	}
	m := hmac.New(sha256.New, fingerprintKey)
	m.Write([]byte("escapegate inbox payload key v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal returns the payload encrypted, as a JSON string.
func (s *sealer) seal(plain []byte, id string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := s.aead.Seal(nonce, nonce, plain, []byte(id))
	return json.Marshal(sealPrefix + base64.StdEncoding.EncodeToString(ct))
}

// open returns the plaintext of a sealed payload; a payload that is not sealed (queued
// by an older version) is returned as it is.
func (s *sealer) open(stored []byte, id string) ([]byte, error) {
	if len(stored) == 0 || stored[0] != '"' {
		return stored, nil
	}
	var str string
	if err := json.Unmarshal(stored, &str); err != nil || len(str) < len(sealPrefix) || str[:len(sealPrefix)] != sealPrefix {
		return stored, nil
	}
	ct, err := base64.StdEncoding.DecodeString(str[len(sealPrefix):])
	if err != nil || len(ct) < s.aead.NonceSize() {
		return nil, fmt.Errorf("sealed payload of %s: malformed", id)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, ct[:n], ct[n:], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("sealed payload of %s: cannot be opened (another fingerprint key?): %w", id, err)
	}
	return plain, nil
}
