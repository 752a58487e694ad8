// Package postgres is the store.Store backend for several replicas: pgx/v5
// with a connection pool, versioned migrations guarded by an advisory lock,
// idempotence through unique keys (INSERT ... ON CONFLICT DO NOTHING) and ids
// from identity sequences. The queries are scoped by the connection's
// search_path, so a DSN's search_path selects (and isolates) a schema.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// migrationLock is the first half of the advisory lock key; the second is the schema's hash,
// so replicas of one deployment serialize while tests in other schemas do not.
const migrationLock = 0x65736361 // "esca"

// Store is a PostgreSQL store.Store.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to dsn (postgres:// URL or key=value form) and checks that the
// server answers. It does not migrate: call Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN with its password: do not wrap them.
		return nil, errors.New("postgres store: cannot parse the DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres store: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres store: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

func repoKey(repo string) string { return strings.ToLower(repo) }

// ts normalizes a time the way both backends keep it: UTC, microseconds (PostgreSQL's precision).
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look for schema_version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema_version: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the persisted schema version, 0 for an empty schema.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("postgres store: %w", err)
	}
	return v, nil
}

// Migrate applies the missing migrations in one transaction that holds an
// advisory lock, so replicas starting together apply them once.
func (s *Store) Migrate(ctx context.Context) error {
	if len(migrations) != store.SchemaVersion {
		return fmt.Errorf("postgres store: %d migrations for schema version %d", len(migrations), store.SchemaVersion)
	}
	return s.migrateTo(ctx, store.SchemaVersion)
}

// migrateTo brings the schema to version target (tests build older schemas with it).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		v, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if v > store.SchemaVersion {
			return fmt.Errorf("schema version %d is newer than this build's %d: upgrade escapegate", v, store.SchemaVersion)
		}
		for ; v < target; v++ {
			if _, err := tx.Exec(ctx, migrations[v].sql); err != nil {
				return fmt.Errorf("migrate to version %d: %w", v+1, err)
			}
			if then := migrations[v].then; then != nil {
				if err := then(ctx, tx); err != nil {
					return fmt.Errorf("migrate to version %d: %w", v+1, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v+1); err != nil {
				return fmt.Errorf("record version %d: %w", v+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres store: migrate: %w", err)
	}
	if target >= 3 {
		if err := s.migrateRiver(ctx); err != nil {
			return fmt.Errorf("postgres store: migrate: %w", err)
		}
	}
	return nil
}

// Pool is the store's connection pool, which the job queue shares: a delivery and its
// job are inserted in one transaction.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// notFound turns pgx's no-rows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return raw, nil
}

func decode(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// getOne decodes the data column of the one row sql selects; no row wraps store.ErrNotFound.
func getOne[T any](ctx context.Context, s *Store, sql string, args ...any) (T, error) {
	var raw []byte
	var v T
	err := notFound(s.pool.QueryRow(ctx, sql, args...).Scan(&raw))
	if err == nil {
		err = decode(raw, &v)
	}
	return v, err
}

// collect runs a query whose single column is a JSON document and decodes each row.
func collect[T any](ctx context.Context, s *Store, fix func(*T, int64), sql string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var raw []byte
		var id int64
		dest := []any{&raw}
		if fix != nil {
			dest = append(dest, &id)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		var v T
		if err := decode(raw, &v); err != nil {
			return nil, err
		}
		if fix != nil {
			fix(&v, id)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MarkDelivery returns true the first time id is seen.
func (s *Store) MarkDelivery(ctx context.Context, id string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO deliveries (id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, ts(at))
	if err != nil {
		return false, fmt.Errorf("mark delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeliverySeen reports whether id is marked.
func (s *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	var seen bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, id).Scan(&seen); err != nil {
		return false, fmt.Errorf("delivery seen: %w", err)
	}
	return seen, nil
}

// ForgetDelivery drops a delivery mark; an unknown id is not an error.
func (s *Store) ForgetDelivery(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM deliveries WHERE id = $1`, id); err != nil {
		return fmt.Errorf("forget delivery: %w", err)
	}
	return nil
}

// PutInstallation creates or replaces an installation.
func (s *Store) PutInstallation(ctx context.Context, in store.Installation) error {
	in.CreatedAt, in.DeletedAt = ts(in.CreatedAt), ts(in.DeletedAt)
	raw, err := encode(in)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO installations (id, data) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data`, in.ID, raw)
	}
	if err != nil {
		return fmt.Errorf("put installation %d: %w", in.ID, err)
	}
	return nil
}

// GetInstallation returns an installation or an error wrapping store.ErrNotFound.
func (s *Store) GetInstallation(ctx context.Context, id int64) (store.Installation, error) {
	in, err := getOne[store.Installation](ctx, s, `SELECT data FROM installations WHERE id = $1`, id)
	if err != nil {
		return store.Installation{}, fmt.Errorf("get installation %d: %w", id, err)
	}
	return in, nil
}

// ListInstallations lists every installation by id.
func (s *Store) ListInstallations(ctx context.Context) ([]store.Installation, error) {
	out, err := collect[store.Installation](ctx, s, nil, `SELECT data FROM installations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	return out, nil
}

// PutRepository creates or replaces a repository, keyed by its lower-cased name.
func (s *Store) PutRepository(ctx context.Context, r store.Repository) error {
	r.AddedAt, r.RemovedAt = ts(r.AddedAt), ts(r.RemovedAt)
	raw, err := encode(r)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO repositories (repo_key, installation_id, data) VALUES ($1, $2, $3)
			ON CONFLICT (repo_key) DO UPDATE SET installation_id = excluded.installation_id, data = excluded.data`,
			repoKey(r.FullName), r.InstallationID, raw)
	}
	if err != nil {
		return fmt.Errorf("put repository %s: %w", r.FullName, err)
	}
	return nil
}

// GetRepository finds a repository by name, in any case.
func (s *Store) GetRepository(ctx context.Context, fullName string) (store.Repository, error) {
	r, err := getOne[store.Repository](ctx, s, `SELECT data FROM repositories WHERE repo_key = $1`, repoKey(fullName))
	if err != nil {
		return store.Repository{}, fmt.Errorf("get repository %s: %w", fullName, err)
	}
	return r, nil
}

// ListRepositories lists an installation's repositories by lower-cased name.
func (s *Store) ListRepositories(ctx context.Context, installationID int64) ([]store.Repository, error) {
	out, err := collect[store.Repository](ctx, s, nil,
		`SELECT data FROM repositories WHERE installation_id = $1 ORDER BY repo_key`, installationID)
	if err != nil {
		return nil, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
	}
	return out, nil
}

// PutScan stores the scan of (repo, sha), replacing an earlier one.
func (s *Store) PutScan(ctx context.Context, sc store.Scan) error {
	sc.At = ts(sc.At)
	raw, err := encode(sc)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO scans (repo_key, sha, data) VALUES ($1, $2, $3)
			ON CONFLICT (repo_key, sha) DO UPDATE SET data = excluded.data`, repoKey(sc.Repo), sc.SHA, raw)
	}
	if err != nil {
		return fmt.Errorf("put scan %s@%s: %w", sc.Repo, sc.SHA, err)
	}
	return nil
}

// GetScan returns the newest scan of (repo, sha).
func (s *Store) GetScan(ctx context.Context, repo, sha string) (store.Scan, error) {
	sc, err := getOne[store.Scan](ctx, s, `SELECT data FROM scans WHERE repo_key = $1 AND sha = $2`, repoKey(repo), sha)
	if err != nil {
		return store.Scan{}, fmt.Errorf("get scan %s@%s: %w", repo, sha, err)
	}
	return sc, nil
}

// RecordCaught keeps the first detection of (repo, fingerprint).
func (s *Store) RecordCaught(ctx context.Context, c store.Caught) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO caught (repo_key, fingerprint, repo, rule, severity, severity_rank, path, pr, sha, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		repoKey(c.Repo), c.Fingerprint, c.Repo, c.Rule, c.Severity, checks.Severity(c.Severity).Rank(), c.Path, c.PR, c.SHA, ts(c.At))
	if err != nil {
		return false, fmt.Errorf("record caught in %s: %w", c.Repo, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecordScan stores the scan and the first detections among caught in one
// transaction: the scan upsert and one multi-row insert of the caught records.
func (s *Store) RecordScan(ctx context.Context, sc store.Scan, caught []store.Caught) (int, error) {
	sc.At = ts(sc.At)
	raw, err := encode(sc)
	if err != nil {
		return 0, fmt.Errorf("record scan %s@%s: %w", sc.Repo, sc.SHA, err)
	}
	// One row per (repo, fingerprint), its first occurrence: the insert below then
	// keeps the same record that RecordCaught calls in order would.
	type rowKey struct{ repo, fp string }
	seen := make(map[rowKey]bool, len(caught))
	n := 0
	cols := struct {
		repoKey, fp, repo, rule, sev, path, sha []string
		rank, pr                                []int32
		at                                      []time.Time
	}{}
	for _, c := range caught {
		k := rowKey{repoKey(c.Repo), c.Fingerprint}
		if seen[k] {
			continue
		}
		seen[k] = true
		n++
		cols.repoKey = append(cols.repoKey, k.repo)
		cols.fp = append(cols.fp, c.Fingerprint)
		cols.repo = append(cols.repo, c.Repo)
		cols.rule = append(cols.rule, c.Rule)
		cols.sev = append(cols.sev, c.Severity)
		cols.rank = append(cols.rank, int32(checks.Severity(c.Severity).Rank()))
		cols.path = append(cols.path, c.Path)
		cols.pr = append(cols.pr, int32(c.PR))
		cols.sha = append(cols.sha, c.SHA)
		cols.at = append(cols.at, ts(c.At))
	}
	var firsts int
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO scans (repo_key, sha, data) VALUES ($1, $2, $3)
			ON CONFLICT (repo_key, sha) DO UPDATE SET data = excluded.data`, repoKey(sc.Repo), sc.SHA, raw); err != nil {
			return fmt.Errorf("put scan: %w", err)
		}
		if n == 0 {
			firsts = 0
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO caught (repo_key, fingerprint, repo, rule, severity, severity_rank, path, pr, sha, at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::integer[], $9::text[], $10::timestamptz[])
			ON CONFLICT DO NOTHING`,
			cols.repoKey, cols.fp, cols.repo, cols.rule, cols.sev, cols.rank, cols.path, cols.pr, cols.sha, cols.at)
		if err != nil {
			return fmt.Errorf("record caught: %w", err)
		}
		firsts = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record scan %s@%s: %w", sc.Repo, sc.SHA, err)
	}
	return firsts, nil
}

// WasCaught reports whether a PR check ever raised the fingerprint in the repository.
func (s *Store) WasCaught(ctx context.Context, repo, fingerprint string) (bool, error) {
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM caught WHERE repo_key = $1 AND fingerprint = $2)`,
		repoKey(repo), fingerprint).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("was caught in %s: %w", repo, err)
	}
	return found, nil
}

// ListCaught lists the repository's first detections in the window, oldest first.
func (s *Store) ListCaught(ctx context.Context, repo string, w store.Window) ([]store.Caught, error) {
	rows, err := s.pool.Query(ctx, `SELECT repo, fingerprint, rule, severity, path, pr, sha, at FROM caught
		WHERE repo_key = $1 AND at >= $2 AND at < $3 ORDER BY at, fingerprint`, repoKey(repo), ts(w.From), ts(w.To))
	if err != nil {
		return nil, fmt.Errorf("list caught in %s: %w", repo, err)
	}
	defer rows.Close()
	out, err := readCaught(rows)
	if err != nil {
		return nil, fmt.Errorf("list caught in %s: %w", repo, err)
	}
	return out, nil
}
