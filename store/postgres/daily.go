package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Daily counts (schema version 4): caught_daily holds, per repository, UTC day
// and severity rank, how many fingerprints were first caught that day. A
// trigger on caught keeps it (so a replica of an older build that inserts during
// a rolling upgrade is counted too); a window's count is the sum of the whole
// days inside it plus a count of the caught rows of the part days at its ends.

const day = 24 * time.Hour

// dailyMigration is schema step 4: the table, its trigger, and the counts of the rows already stored.
const dailyMigration = `
CREATE TABLE caught_daily (
	repo_key text COLLATE "C" NOT NULL,
	day timestamptz NOT NULL,
	severity_rank smallint NOT NULL,
	n bigint NOT NULL,
	PRIMARY KEY (repo_key, day, severity_rank)
);
CREATE FUNCTION caught_daily_count() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	-- One row per (repository, day, rank) of the statement, in key order so that
	-- concurrent inserts lock the rows they share in the same order.
	INSERT INTO caught_daily (repo_key, day, severity_rank, n)
	SELECT repo_key, date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', severity_rank, count(*)
	FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
	ON CONFLICT (repo_key, day, severity_rank) DO UPDATE SET n = caught_daily.n + excluded.n;
	RETURN NULL;
END
$$;
CREATE TRIGGER caught_daily_count AFTER INSERT ON caught REFERENCING NEW TABLE AS inserted
	FOR EACH STATEMENT EXECUTE FUNCTION caught_daily_count();
INSERT INTO caught_daily (repo_key, day, severity_rank, n)
	SELECT repo_key, date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', severity_rank, count(*)
	FROM caught GROUP BY 1, 2, 3;
`

// CountCaught counts detections in the window at or above minSeverity.
func (s *Store) CountCaught(ctx context.Context, repo string, w store.Window, minSeverity string) (int, error) {
	n, err := s.CountCaughtWindows(ctx, repo, []store.Window{w}, minSeverity)
	if err != nil {
		return 0, err
	}
	return n[0], nil
}

// CountCaughtWindows counts every window in one query. Each window [f, t) is cut
// into a head [f, d0), whole days [d0, d1) read from caught_daily, and a tail [d1, t).
func (s *Store) CountCaughtWindows(ctx context.Context, repo string, ws []store.Window, minSeverity string) ([]int, error) {
	min, err := checks.ParseSeverity(minSeverity)
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	out := make([]int, len(ws))
	if len(ws) == 0 {
		return out, nil
	}
	var sw splitWindows
	for i, w := range ws {
		sw.add(0, i, repo, w)
	}
	err = sw.count(ctx, s.pool, min.Rank(), func(_, i, n int) error {
		if i < 0 || i >= len(out) {
			return fmt.Errorf("window %d of %d", i, len(out))
		}
		out[i] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	return out, nil
}

// splitWindows are windows to count, each cut into a head [f, d0), whole days
// [d0, d1) and a tail [d1, t), with the query and window they answer.
type splitWindows struct {
	q, w          []int32
	repo          []string
	f, d0, d1, to []time.Time
}

func (s *splitWindows) add(q, i int, repo string, w store.Window) {
	f, t := ts(w.From), ts(w.To)
	if !f.Before(t) {
		f = t // empty
	}
	d0, d1 := f.Truncate(day), t.Truncate(day)
	if d0.Before(f) {
		d0 = d0.Add(day)
	}
	if !d0.Before(d1) { // no whole day inside: the head is the window
		d0, d1 = t, t
	}
	s.q, s.w, s.repo = append(s.q, int32(q)), append(s.w, int32(i)), append(s.repo, repoKey(repo))
	s.f, s.d0, s.d1, s.to = append(s.f, f), append(s.d0, d0), append(s.d1, d1), append(s.to, t)
}

// count counts every window in one query and hands each count to set.
func (s *splitWindows) count(ctx context.Context, db querier, rank int, set func(q, w, n int) error) error {
	if len(s.q) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `SELECT w.q, w.w,
		(SELECT count(*) FROM caught c WHERE c.repo_key = w.repo_key AND c.at >= w.f AND c.at < w.d0 AND c.severity_rank >= $1)
		+ (SELECT count(*) FROM caught c WHERE c.repo_key = w.repo_key AND c.at >= w.d1 AND c.at < w.t AND c.severity_rank >= $1)
		+ (SELECT coalesce(sum(n), 0)::bigint FROM caught_daily d WHERE d.repo_key = w.repo_key AND d.day >= w.d0 AND d.day < w.d1 AND d.severity_rank >= $1)
		FROM unnest($2::int[], $3::int[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[]) AS w(q, w, repo_key, f, d0, d1, t)`,
		rank, s.q, s.w, s.repo, s.f, s.d0, s.d1, s.to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var q, w, n int
		if err := rows.Scan(&q, &w, &n); err != nil {
			return err
		}
		if err := set(q, w, n); err != nil {
			return err
		}
	}
	return rows.Err()
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ReadLedgers answers all queries with three queries in one read-only, repeatable
// read transaction: their escapes, their exceptions and their caught counts.
func (s *Store) ReadLedgers(ctx context.Context, qs []store.LedgerQuery, minSeverity string) ([]store.Ledger, error) {
	min, err := checks.ParseSeverity(minSeverity)
	if err != nil {
		return nil, fmt.Errorf("read ledgers: %w", err)
	}
	out := make([]store.Ledger, len(qs))
	var sw splitWindows
	repos := make([]string, len(qs))
	escF, escT := make([]time.Time, len(qs)), make([]time.Time, len(qs))
	excF, excT := make([]time.Time, len(qs)), make([]time.Time, len(qs))
	for i, q := range qs {
		repos[i] = repoKey(q.Repo)
		escF[i], escT[i] = ts(q.Escapes.From), ts(q.Escapes.To)
		excF[i], excT[i] = ts(q.Exceptions.From), ts(q.Exceptions.To)
		out[i].Caught = make([]int, len(q.Caught))
		for j, w := range q.Caught {
			sw.add(i, j, q.Repo, w)
		}
	}
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := readEscapes(ctx, tx, out, repos, escF, escT); err != nil {
			return fmt.Errorf("list escapes: %w", err)
		}
		if err := readExceptions(ctx, tx, out, repos, excF, excT); err != nil {
			return fmt.Errorf("list exceptions: %w", err)
		}
		err := sw.count(ctx, tx, min.Rank(), func(q, w, n int) error {
			if q < 0 || q >= len(out) || w < 0 || w >= len(out[q].Caught) {
				return fmt.Errorf("window %d of query %d", w, q)
			}
			out[q].Caught[w] = n
			return nil
		})
		if err != nil {
			return fmt.Errorf("count caught: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ledgers: %w", err)
	}
	return out, nil
}

// The batched reads take the records' fields out of their jsonb on the server
// (jsonb_to_record) and scan them as columns: decoding 100k JSON documents in Go
// was most of a monthly summary's time. Absent keys (omitempty) read as zero
// values, as encoding/json leaves them. The column lists must follow store.Escape
// and store.Exception; storetest's ReadLedgers case fills every field.

func readEscapes(ctx context.Context, db querier, out []store.Ledger, repos []string, from, to []time.Time) error {
	rows, err := db.Query(ctx, `SELECT q.i::int, e.id, coalesce(x.repo, ''), coalesce(x.fingerprint, ''), coalesce(x.kind, ''),
		coalesce(x.rule, ''), coalesce(x.severity, ''), coalesce(x.path, ''), coalesce(x.redacted, ''), coalesce(x.pr, 0),
		coalesce(x.sha, ''), coalesce(x.exception_id, 0), coalesce(x.approver, ''), coalesce(x.reason, ''),
		coalesce(x.detected_at, '0001-01-01T00:00:00Z'), coalesce(x.at, '0001-01-01T00:00:00Z'), coalesce(x.enforcement, '')
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS q(repo_key, f, t, i)
		JOIN escapes e ON e.repo_key = q.repo_key AND e.detected_at >= q.f AND e.detected_at < q.t,
		jsonb_to_record(e.data) AS x(repo text, fingerprint text, kind text, rule text, severity text, path text, redacted text,
			pr integer, sha text, exception_id bigint, approver text, reason text, detected_at timestamptz, at timestamptz,
			enforcement text)
		ORDER BY q.i, e.detected_at, e.id`, repos, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var e store.Escape
		if err := rows.Scan(&i, &e.ID, &e.Repo, &e.Fingerprint, &e.Kind, &e.Rule, &e.Severity, &e.Path, &e.Redacted, &e.PR,
			&e.SHA, &e.ExceptionID, &e.Approver, &e.Reason, &e.DetectedAt, &e.At, &e.Enforcement); err != nil {
			return err
		}
		if i < 1 || i > len(out) {
			return fmt.Errorf("escape of query %d of %d", i, len(out))
		}
		e.DetectedAt, e.At = e.DetectedAt.UTC(), e.At.UTC()
		out[i-1].Escapes = append(out[i-1].Escapes, e)
	}
	return rows.Err()
}

func readExceptions(ctx context.Context, db querier, out []store.Ledger, repos []string, from, to []time.Time) error {
	rows, err := db.Query(ctx, `SELECT q.i::int, e.id, coalesce(x.repo, ''), coalesce(x.pr, 0), coalesce(x.head_sha, ''),
		coalesce(x.approver, ''), coalesce(x.reason, ''), coalesce(x.label, ''), x.fingerprints,
		coalesce(x.created_at, '0001-01-01T00:00:00Z'), coalesce(x.expires_at, '0001-01-01T00:00:00Z'), coalesce(x.state, ''),
		coalesce(x.revoked_by, ''), coalesce(x.ended_at, '0001-01-01T00:00:00Z'), coalesce(x.delivery_id, ''),
		coalesce(x.issue, 0), coalesce(x.reminded_at, '0001-01-01T00:00:00Z'), coalesce(x.remediated_at, '0001-01-01T00:00:00Z')
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS q(repo_key, f, t, i)
		JOIN exceptions e ON e.repo_key = q.repo_key AND e.created_at >= q.f AND e.created_at < q.t,
		jsonb_to_record(e.data) AS x(repo text, pr integer, head_sha text, approver text, reason text, label text,
			fingerprints text[], created_at timestamptz, expires_at timestamptz, state text, revoked_by text,
			ended_at timestamptz, delivery_id text, issue integer, reminded_at timestamptz, remediated_at timestamptz)
		ORDER BY q.i, e.created_at, e.id`, repos, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var e store.Exception
		if err := rows.Scan(&i, &e.ID, &e.Repo, &e.PR, &e.HeadSHA, &e.Approver, &e.Reason, &e.Label, &e.Fingerprints,
			&e.CreatedAt, &e.ExpiresAt, &e.State, &e.RevokedBy, &e.EndedAt, &e.DeliveryID, &e.Issue, &e.RemindedAt, &e.RemediatedAt); err != nil {
			return err
		}
		if i < 1 || i > len(out) {
			return fmt.Errorf("exception of query %d of %d", i, len(out))
		}
		e.CreatedAt, e.ExpiresAt, e.EndedAt = e.CreatedAt.UTC(), e.ExpiresAt.UTC(), e.EndedAt.UTC()
		e.RemindedAt, e.RemediatedAt = e.RemindedAt.UTC(), e.RemediatedAt.UTC()
		out[i-1].Exceptions = append(out[i-1].Exceptions, e)
	}
	return rows.Err()
}
