package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/internal/legacy"
)

// Pending escapes, the last release and release comment ids (schema version 2).
// Each method is one statement, so one transaction.

// execer is what the pool and a transaction share: the migration to version 2
// writes the records with the same statements as the methods.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// AddPending keeps escapes for repo once per (repo, fingerprint), in one statement.
func (s *Store) AddPending(ctx context.Context, repo string, escapes []store.Escape) (int, error) {
	n, err := addPending(ctx, s.pool, repo, escapes)
	// Redeliveries of one merge may list the same fingerprints in other orders, and
	// two inserts that wait on each other's unique keys deadlock: PostgreSQL aborts
	// one, which inserted nothing, so running it again is the same statement.
	for try := 0; try < 5 && isDeadlock(err); try++ {
		n, err = addPending(ctx, s.pool, repo, escapes)
	}
	if err != nil {
		return 0, fmt.Errorf("add pending escapes in %s: %w", repo, err)
	}
	return n, nil
}

// isDeadlock reports whether PostgreSQL aborted the statement to break a deadlock.
func isDeadlock(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// addPending inserts the first escape of each fingerprint, in order: the
// identity column then keeps the order they were added in.
func addPending(ctx context.Context, q execer, repo string, escapes []store.Escape) (int, error) {
	seen := make(map[string]bool, len(escapes))
	var fps, docs []string
	for _, e := range escapes {
		if seen[e.Fingerprint] {
			continue
		}
		seen[e.Fingerprint] = true
		e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
		raw, err := encode(e)
		if err != nil {
			return 0, err
		}
		fps, docs = append(fps, e.Fingerprint), append(docs, string(raw))
	}
	if len(fps) == 0 {
		return 0, ctx.Err() // nothing to send, but a done context is still refused
	}
	tag, err := q.Exec(ctx, `INSERT INTO pending_escapes (repo_key, fingerprint, data)
		SELECT $1, u.fp, u.doc::jsonb FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(fp, doc, n) ORDER BY u.n
		ON CONFLICT (repo_key, fingerprint) DO NOTHING`, repoKey(repo), fps, docs)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// TakePending returns repo's pending escapes in the order they were added and
// removes them: one DELETE ... RETURNING, so of concurrent takers (each blocks
// on the rows another is deleting, then skips them) each row goes to one.
func (s *Store) TakePending(ctx context.Context, repo string) ([]store.Escape, error) {
	type row struct {
		id int64
		e  store.Escape
	}
	rows, err := s.pool.Query(ctx, `DELETE FROM pending_escapes WHERE repo_key = $1 RETURNING id, data`, repoKey(repo))
	if err != nil {
		return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
	}
	defer rows.Close()
	var taken []row
	for rows.Next() {
		var r row
		var raw []byte
		if err := rows.Scan(&r.id, &raw); err != nil {
			return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
		}
		if err := decode(raw, &r.e); err != nil {
			return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
		}
		taken = append(taken, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
	}
	slices.SortFunc(taken, func(a, b row) int { return cmp.Compare(a.id, b.id) })
	var out []store.Escape
	for _, r := range taken {
		out = append(out, r.e)
	}
	return out, nil
}

// PutLastRelease keeps r unless the release kept was published later; the
// upsert's row lock orders concurrent puts.
func (s *Store) PutLastRelease(ctx context.Context, repo string, r store.Release) error {
	if err := putLastRelease(ctx, s.pool, repo, r); err != nil {
		return fmt.Errorf("put last release of %s: %w", repo, err)
	}
	return nil
}

func putLastRelease(ctx context.Context, q execer, repo string, r store.Release) error {
	_, err := q.Exec(ctx, `INSERT INTO last_releases (repo_key, tag, at) VALUES ($1, $2, $3)
		ON CONFLICT (repo_key) DO UPDATE SET tag = excluded.tag, at = excluded.at
		WHERE last_releases.at <= excluded.at`, repoKey(repo), r.Tag, ts(r.At))
	return err
}

// GetLastRelease returns repo's last release or an error wrapping store.ErrNotFound.
func (s *Store) GetLastRelease(ctx context.Context, repo string) (store.Release, error) {
	var r store.Release
	err := notFound(s.pool.QueryRow(ctx, `SELECT tag, at FROM last_releases WHERE repo_key = $1`, repoKey(repo)).Scan(&r.Tag, &r.At))
	if err != nil {
		return store.Release{}, fmt.Errorf("get last release of %s: %w", repo, err)
	}
	r.At = r.At.UTC()
	return r, nil
}

// PutReleaseComment remembers the release comment id of a pull request.
func (s *Store) PutReleaseComment(ctx context.Context, repo string, pr int, commentID int64) error {
	if err := putReleaseComment(ctx, s.pool, repo, pr, commentID); err != nil {
		return fmt.Errorf("put release comment of %s#%d: %w", repo, pr, err)
	}
	return nil
}

func putReleaseComment(ctx context.Context, q execer, repo string, pr int, commentID int64) error {
	_, err := q.Exec(ctx, `INSERT INTO release_comments (repo_key, pr, comment_id) VALUES ($1, $2, $3)
		ON CONFLICT (repo_key, pr) DO UPDATE SET comment_id = excluded.comment_id`, repoKey(repo), pr, commentID)
	return err
}

// GetReleaseComment returns the release comment id of a pull request.
func (s *Store) GetReleaseComment(ctx context.Context, repo string, pr int) (int64, error) {
	var id int64
	err := notFound(s.pool.QueryRow(ctx, `SELECT comment_id FROM release_comments WHERE repo_key = $1 AND pr = $2`,
		repoKey(repo), pr).Scan(&id))
	if err != nil {
		return 0, fmt.Errorf("get release comment of %s#%d: %w", repo, pr, err)
	}
	return id, nil
}

// moveLegacySettings turns version 1's settings of pending escapes, last
// releases and release comment ids into records and deletes them.
func moveLegacySettings(ctx context.Context, tx pgx.Tx) error {
	type setting struct {
		key   string
		value []byte
	}
	rows, err := tx.Query(ctx, `SELECT key, value FROM settings
		WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) AS p WHERE starts_with(key, p)) ORDER BY key`, legacy.Prefixes)
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (setting, error) {
		var s setting
		return s, r.Scan(&s.key, &s.value)
	})
	if err != nil {
		return fmt.Errorf("read settings: %w", err)
	}
	var moved []string
	for _, st := range found {
		ls, ok, err := legacy.Decode(st.key, st.value)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch ls.Kind {
		case legacy.KindPending:
			_, err = addPending(ctx, tx, ls.Repo, ls.Pending)
		case legacy.KindRelease:
			err = putLastRelease(ctx, tx, ls.Repo, ls.Release)
		case legacy.KindReleaseComment:
			if ls.Comment != 0 {
				err = putReleaseComment(ctx, tx, ls.Repo, ls.PR, ls.Comment)
			}
		}
		if err != nil {
			return fmt.Errorf("move setting %q: %w", st.key, err)
		}
		moved = append(moved, st.key)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM settings WHERE key = ANY($1)`, moved); err != nil {
		return fmt.Errorf("delete moved settings: %w", err)
	}
	return nil
}
