package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// migration is one schema step: its SQL, then (when set) a Go step, both in
// the migrating transaction.
type migration struct {
	sql  string
	then func(ctx context.Context, tx pgx.Tx) error
}

// migrations[i] brings the schema from version i to i+1. Keys are COLLATE "C"
// so that ordering is byte order, the same order the bbolt backend returns.
var migrations = []migration{
	{sql: `
CREATE TABLE deliveries (
	id text COLLATE "C" PRIMARY KEY,
	at timestamptz NOT NULL
);
CREATE TABLE installations (
	id bigint PRIMARY KEY,
	data jsonb NOT NULL
);
CREATE TABLE repositories (
	repo_key text COLLATE "C" PRIMARY KEY,
	installation_id bigint NOT NULL,
	data jsonb NOT NULL
);
CREATE INDEX repositories_by_installation ON repositories (installation_id, repo_key);
CREATE TABLE scans (
	repo_key text COLLATE "C" NOT NULL,
	sha text COLLATE "C" NOT NULL,
	data jsonb NOT NULL,
	PRIMARY KEY (repo_key, sha)
);
CREATE TABLE caught (
	repo_key text COLLATE "C" NOT NULL,
	fingerprint text COLLATE "C" NOT NULL,
	repo text NOT NULL,
	rule text NOT NULL,
	severity text NOT NULL,
	severity_rank smallint NOT NULL,
	path text NOT NULL,
	pr integer NOT NULL,
	sha text NOT NULL,
	at timestamptz NOT NULL,
	PRIMARY KEY (repo_key, fingerprint)
);
CREATE INDEX caught_by_time ON caught (repo_key, at, fingerprint) INCLUDE (severity_rank);
CREATE TABLE exceptions (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo_key text COLLATE "C" NOT NULL,
	pr integer NOT NULL,
	created_at timestamptz NOT NULL,
	delivery_id text COLLATE "C" NOT NULL,
	data jsonb NOT NULL
);
CREATE UNIQUE INDEX exceptions_by_delivery ON exceptions (delivery_id) WHERE delivery_id <> '';
CREATE INDEX exceptions_by_time ON exceptions (repo_key, created_at, id);
CREATE INDEX exceptions_by_pr ON exceptions (repo_key, pr, created_at, id);
CREATE TABLE refused (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo_key text COLLATE "C" NOT NULL,
	at timestamptz NOT NULL,
	delivery_id text COLLATE "C" NOT NULL,
	data jsonb NOT NULL
);
CREATE UNIQUE INDEX refused_by_delivery ON refused (delivery_id) WHERE delivery_id <> '';
CREATE INDEX refused_by_time ON refused (repo_key, at, id);
CREATE TABLE escapes (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo_key text COLLATE "C" NOT NULL,
	fingerprint text COLLATE "C" NOT NULL,
	detected_at timestamptz NOT NULL,
	data jsonb NOT NULL,
	UNIQUE (repo_key, fingerprint)
);
CREATE INDEX escapes_by_detected ON escapes (repo_key, detected_at, id);
CREATE TABLE settings (
	key text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL
);
`},
	// Version 2: pending escapes, the last release and release comment ids get
	// tables of their own; the settings that held them move there.
	{sql: `
CREATE TABLE pending_escapes (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo_key text COLLATE "C" NOT NULL,
	fingerprint text COLLATE "C" NOT NULL,
	data jsonb NOT NULL,
	UNIQUE (repo_key, fingerprint)
);
CREATE TABLE last_releases (
	repo_key text COLLATE "C" PRIMARY KEY,
	tag text NOT NULL,
	at timestamptz NOT NULL
);
CREATE TABLE release_comments (
	repo_key text COLLATE "C" NOT NULL,
	pr integer NOT NULL,
	comment_id bigint NOT NULL,
	PRIMARY KEY (repo_key, pr)
);
`, then: moveLegacySettings},
	// Version 3: the durable inbox. Replicas on PostgreSQL hand deliveries to River, the
	// job queue (app/inbox/riverinbox). Its tables come from its own migrations, which
	// cannot share one transaction (one adds an enum value that a later one uses), so
	// Migrate runs them after this step commits (migrateRiver).
	{sql: `SELECT 1`},
	// Version 4: daily counts of the caught rows (daily.go), kept by a trigger.
	{sql: dailyMigration},
}

// migrateRiver brings River's tables up to date in the store's schema (the connection's
// search_path), one replica at a time.
func (s *Store) migrateRiver(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, riverMigrationLock); err != nil {
		return fmt.Errorf("job queue migrations: take the lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, riverMigrationLock)
	}()
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// riverMigrationLock keys the advisory lock of River's migrations (migrationLock + 1).
const riverMigrationLock = migrationLock + 1
