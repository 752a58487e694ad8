package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/escapegate/escapegate/store"
)

func normException(e *store.Exception) {
	e.CreatedAt, e.ExpiresAt, e.EndedAt = ts(e.CreatedAt), ts(e.ExpiresAt), ts(e.EndedAt)
	if e.State == "" {
		e.State = store.ExceptionActive
	}
}

func setExceptionID(e *store.Exception, id int64) { e.ID = id }

func setEscapeID(e *store.Escape, id int64) { e.ID = id }

// insertOnce runs insert, an INSERT ... ON CONFLICT DO NOTHING RETURNING id with
// insertArgs, and returns rec with that id and true; when the conflict leaves no
// row, it returns the first record, which first (SELECT data, id) reads, and false.
func insertOnce[T any](ctx context.Context, s *Store, setID func(*T, int64), rec T,
	insert string, insertArgs []any, first string, firstArgs ...any) (T, bool, error) {
	var zero T
	var id int64
	err := s.pool.QueryRow(ctx, insert, insertArgs...).Scan(&id)
	if err == nil {
		setID(&rec, id)
		return rec, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return zero, false, err
	}
	var raw []byte
	var old T // decoded afresh: rec's fields must not show through the first one's
	err = s.pool.QueryRow(ctx, first, firstArgs...).Scan(&raw, &id)
	if err == nil {
		err = decode(raw, &old)
	}
	if err != nil {
		return zero, false, fmt.Errorf("read the first one: %w", err)
	}
	setID(&old, id)
	return old, false, nil
}

// AddException assigns the next id from the identity sequence; a repeated
// non-empty DeliveryID returns the first exception and false.
func (s *Store) AddException(ctx context.Context, e store.Exception) (store.Exception, bool, error) {
	normException(&e)
	e.ID = 0
	raw, err := encode(e)
	if err != nil {
		return store.Exception{}, false, fmt.Errorf("add exception in %s: %w", e.Repo, err)
	}
	out, first, err := insertOnce(ctx, s, setExceptionID, e,
		`INSERT INTO exceptions (repo_key, pr, created_at, delivery_id, data)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (delivery_id) WHERE delivery_id <> '' DO NOTHING RETURNING id`,
		[]any{repoKey(e.Repo), e.PR, e.CreatedAt, e.DeliveryID, raw},
		// The delivery was recorded before (possibly by another replica a moment ago).
		`SELECT data, id FROM exceptions WHERE delivery_id = $1`, e.DeliveryID)
	if err != nil {
		return store.Exception{}, false, fmt.Errorf("add exception in %s: %w", e.Repo, err)
	}
	return out, first, nil
}

// UpdateException replaces an existing exception; the id must exist.
func (s *Store) UpdateException(ctx context.Context, e store.Exception) error {
	normException(&e)
	id := e.ID
	e.ID = 0
	raw, err := encode(e)
	if err == nil {
		var tag interface{ RowsAffected() int64 }
		tag, err = s.pool.Exec(ctx, `UPDATE exceptions SET repo_key = $2, pr = $3, created_at = $4, delivery_id = $5, data = $6
			WHERE id = $1`, id, repoKey(e.Repo), e.PR, e.CreatedAt, e.DeliveryID, raw)
		if err == nil && tag.RowsAffected() == 0 {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("update exception %d: %w", id, err)
	}
	return nil
}

// GetException returns an exception by id.
func (s *Store) GetException(ctx context.Context, id int64) (store.Exception, error) {
	e, err := getOne[store.Exception](ctx, s, `SELECT data FROM exceptions WHERE id = $1`, id)
	if err != nil {
		return store.Exception{}, fmt.Errorf("get exception %d: %w", id, err)
	}
	e.ID = id
	return e, nil
}

// ListExceptions lists a repository's exceptions created in the window (of one
// PR when pr > 0), oldest first.
func (s *Store) ListExceptions(ctx context.Context, repo string, pr int, w store.Window) ([]store.Exception, error) {
	var out []store.Exception
	var err error
	if pr > 0 {
		out, err = collect(ctx, s, setExceptionID, `SELECT data, id FROM exceptions
			WHERE repo_key = $1 AND pr = $2 AND created_at >= $3 AND created_at < $4 ORDER BY created_at, id`,
			repoKey(repo), pr, ts(w.From), ts(w.To))
	} else {
		out, err = collect(ctx, s, setExceptionID, `SELECT data, id FROM exceptions
			WHERE repo_key = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id`,
			repoKey(repo), ts(w.From), ts(w.To))
	}
	if err != nil {
		return nil, fmt.Errorf("list exceptions in %s: %w", repo, err)
	}
	return out, nil
}

// AddRefused records a refused override; a repeated non-empty DeliveryID is ignored.
func (s *Store) AddRefused(ctx context.Context, r store.RefusedOverride) (bool, error) {
	r.At = ts(r.At)
	raw, err := encode(r)
	if err != nil {
		return false, fmt.Errorf("add refused override in %s: %w", r.Repo, err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO refused (repo_key, at, delivery_id, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (delivery_id) WHERE delivery_id <> '' DO NOTHING`, repoKey(r.Repo), r.At, r.DeliveryID, raw)
	if err != nil {
		return false, fmt.Errorf("add refused override in %s: %w", r.Repo, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ListRefused lists refused overrides in the window, oldest first.
func (s *Store) ListRefused(ctx context.Context, repo string, w store.Window) ([]store.RefusedOverride, error) {
	out, err := collect[store.RefusedOverride](ctx, s, nil, `SELECT data FROM refused
		WHERE repo_key = $1 AND at >= $2 AND at < $3 ORDER BY at, id`, repoKey(repo), ts(w.From), ts(w.To))
	if err != nil {
		return nil, fmt.Errorf("list refused overrides in %s: %w", repo, err)
	}
	return out, nil
}

// AddEscape records an escape once per (repo, fingerprint); a repeat returns the first and false.
func (s *Store) AddEscape(ctx context.Context, e store.Escape) (store.Escape, bool, error) {
	e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
	e.ID = 0
	raw, err := encode(e)
	if err != nil {
		return store.Escape{}, false, fmt.Errorf("add escape in %s: %w", e.Repo, err)
	}
	out, first, err := insertOnce(ctx, s, setEscapeID, e,
		`INSERT INTO escapes (repo_key, fingerprint, detected_at, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (repo_key, fingerprint) DO NOTHING RETURNING id`,
		[]any{repoKey(e.Repo), e.Fingerprint, e.DetectedAt, raw},
		`SELECT data, id FROM escapes WHERE repo_key = $1 AND fingerprint = $2`, repoKey(e.Repo), e.Fingerprint)
	if err != nil {
		return store.Escape{}, false, fmt.Errorf("add escape in %s: %w", e.Repo, err)
	}
	return out, first, nil
}

// ListEscapes lists escapes whose DetectedAt is in the window, oldest first.
func (s *Store) ListEscapes(ctx context.Context, repo string, w store.Window) ([]store.Escape, error) {
	out, err := collect(ctx, s, setEscapeID, `SELECT data, id FROM escapes
		WHERE repo_key = $1 AND detected_at >= $2 AND detected_at < $3 ORDER BY detected_at, id`,
		repoKey(repo), ts(w.From), ts(w.To))
	if err != nil {
		return nil, fmt.Errorf("list escapes in %s: %w", repo, err)
	}
	return out, nil
}

// GetSetting returns a setting's value.
func (s *Store) GetSetting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	if err := notFound(s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)); err != nil {
		return nil, fmt.Errorf("get setting %q: %w", key, err)
	}
	return v, nil
}

// PutSetting sets a setting.
func (s *Store) PutSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, nonNil(value))
	if err != nil {
		return fmt.Errorf("put setting %q: %w", key, err)
	}
	return nil
}

// ClaimOnce sets key only if absent: the primary key decides the one winner across replicas.
func (s *Store) ClaimOnce(ctx context.Context, key string, value []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, key, nonNil(value))
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", key, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteSetting removes a setting; deleting an absent key wraps store.ErrNotFound.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM settings WHERE key = $1`, key)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete setting %q: %w", key, err)
	}
	return nil
}

// nonNil keeps the NOT NULL column satisfied for an empty value.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}
