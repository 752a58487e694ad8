package dashboard

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// Cookie names. The session cookie is the only thing that lets a browser past the
// login page; the flow cookie carries one sign-in's state (CSRF) and return path.
const (
	sessionCookie = "escapegate_session"
	flowCookie    = "escapegate_oauth"
	flowTTL       = 10 * time.Minute
)

// Session is a signed-in user: who, which orgs they may see (decided at sign-in), until when.
type Session struct {
	Login string   `json:"l"`
	Orgs  []string `json:"o"`
	// RepoPerms: in these orgs (lower case), the repositories where the user has the
	// permission named, which lets them approve overrides there, may be opened.
	RepoPerms map[string]string `json:"r,omitempty"`
	Expires   int64             `json:"e"` // Unix seconds
}

// flow is one sign-in in progress: the state GitHub must hand back, and where to go after.
type flow struct {
	State   string `json:"s"`
	Next    string `json:"n"`
	Expires int64  `json:"e"`
}

// signer signs cookie values with HMAC-SHA256; each kind of value has its own label, so
// a flow cookie can never be replayed as a session.
type signer struct{ key []byte }

func (s signer) sign(label string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s cookie: %w", label, err)
	}
	p := base64.RawURLEncoding.EncodeToString(raw)
	return p + "." + base64.RawURLEncoding.EncodeToString(s.mac(label, p)), nil
}

func (s signer) mac(label, payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("escapegate ui " + label + " v1\x00" + payload))
	return m.Sum(nil)
}

// verify checks the signature, then decodes into v, then the expiry.
func (s signer) verify(label, value string, now time.Time, v any, expires func() int64) error {
	p, sig, ok := strings.Cut(value, ".")
	if !ok {
		return errors.New("malformed cookie")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(label, p)) {
		return errors.New("bad cookie signature")
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return errors.New("malformed cookie")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("malformed cookie")
	}
	if now.Unix() >= expires() {
		return errors.New("expired cookie")
	}
	return nil
}

// cookie builds a cookie for the dashboard's path: HttpOnly, SameSite=Lax (the GitHub
// redirect back is a top-level GET, which Lax lets through), Secure behind https.
func (d *Dashboard) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = d.now().Add(maxAge)
	} else {
		c.MaxAge = -1
		c.Expires = time.Unix(1, 0)
	}
	return c
}

// session returns the request's valid session, if any.
func (d *Dashboard) session(r *http.Request) (Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Session{}, false
	}
	var s Session
	if err := d.signer.verify("session", c.Value, d.now(), &s, func() int64 { return s.Expires }); err != nil || s.Login == "" {
		return Session{}, false
	}
	return s, true
}

// canSee reports whether the session may see org.
func (s Session) canSee(org string) bool {
	for _, o := range s.Orgs {
		if strings.EqualFold(o, org) {
			return true
		}
	}
	return false
}

// SessionKey returns the key that signs session cookies: key, else the file at path
// (mode 0600 or stricter, as the fingerprint key's), else one derived from the
// fingerprint key, which is itself kept outside the store.
func SessionKey(key, path string, fingerprintKey []byte) ([]byte, error) {
	switch {
	case key != "":
		return []byte(key), nil
	case path != "":
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("ui.session_key_path: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("ui.session_key_path %s is mode %04o: it must be 0600 or stricter", path, fi.Mode().Perm())
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ui.session_key_path: %w", err)
		}
		b = bytes.TrimSpace(b)
		if len(b) < 16 {
			return nil, fmt.Errorf("ui.session_key_path %s holds %d bytes: want at least 16", path, len(b))
		}
		return b, nil
	case len(fingerprintKey) > 0:
		m := hmac.New(sha256.New, fingerprintKey)
		m.Write([]byte("escapegate ui session key v1"))
		return m.Sum(nil), nil
	}
	return nil, errors.New("no session key: set ui.session_key_path (or a fingerprint key to derive one from)")
}
