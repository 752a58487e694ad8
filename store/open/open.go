// Package open turns a store URL from the configuration into a store.Store:
// bolt:/path/file.db or a bare path for the embedded bbolt file, and
// postgres:// or postgresql:// for PostgreSQL. It does not migrate.
package open

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/postgres"
)

// Kind is the backend a store URL selects.
type Kind string

// Backends.
const (
	Bolt     Kind = "bolt"
	Postgres Kind = "postgres"
)

// Parse says which backend a store URL selects and returns what that backend
// opens: the file path for bolt, the DSN unchanged for postgres. Errors never
// quote the URL, which may carry a password.
func Parse(raw string) (Kind, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errors.New("store: no store configured (set store: bolt:/path/file.db or postgres://...)")
	}
	scheme, rest, hasScheme := strings.Cut(raw, ":")
	if !hasScheme || strings.ContainsAny(scheme, `/\.`) || len(scheme) == 1 {
		// A bare path (relative, absolute, or a Windows drive letter).
		return Bolt, raw, nil
	}
	switch strings.ToLower(scheme) {
	case "bolt", "bbolt":
		path := rest
		if strings.HasPrefix(rest, "//") { // bolt:///var/lib/x.db or bolt://./x.db
			u, err := url.Parse(raw)
			if err != nil {
				return "", "", fmt.Errorf("store: bad bolt URL: %w", errors.Unwrap(err))
			}
			path = u.Host + u.Path
		}
		if path == "" {
			return "", "", errors.New("store: bolt URL without a file path (use bolt:/path/file.db)")
		}
		return Bolt, path, nil
	case "postgres", "postgresql":
		return Postgres, raw, nil
	default:
		return "", "", fmt.Errorf("store: unsupported store URL scheme %q (use bolt:/path/file.db, a bare file path, or postgres://...)", scheme)
	}
}

// Open opens the store that url names. For bolt, an error wraps store.ErrLocked
// when another process (usually `escapegate serve`) holds the file.
func Open(ctx context.Context, url string) (store.Store, error) {
	return openWith(ctx, url, bolt.Options{})
}

// OpenReadOnly opens the store for a command that only reads (report): a bolt
// file is opened read-only (bolt.Options.ReadOnly: its cost does not grow with
// the file, and it must exist), PostgreSQL as Open does. Writes through the
// returned store fail on bolt.
func OpenReadOnly(ctx context.Context, url string) (store.Store, error) {
	return openWith(ctx, url, bolt.Options{ReadOnly: true})
}

func openWith(ctx context.Context, url string, boltOpts bolt.Options) (store.Store, error) {
	kind, target, err := Parse(url)
	if err != nil {
		return nil, err
	}
	switch kind {
	case Bolt:
		s, err := bolt.Open(target, boltOpts)
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		s, err := postgres.Open(ctx, target)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}
