package postgres

import (
	"context"
	"fmt"
	"time"

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
	SELECT repo_key, date_bin('1 day', at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), severity_rank, count(*)
	FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
	ON CONFLICT (repo_key, day, severity_rank) DO UPDATE SET n = caught_daily.n + excluded.n;
	RETURN NULL;
END
$$;
CREATE TRIGGER caught_daily_count AFTER INSERT ON caught REFERENCING NEW TABLE AS inserted
	FOR EACH STATEMENT EXECUTE FUNCTION caught_daily_count();
INSERT INTO caught_daily (repo_key, day, severity_rank, n)
	SELECT repo_key, date_bin('1 day', at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), severity_rank, count(*)
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
	f, d0, d1, t := make([]time.Time, len(ws)), make([]time.Time, len(ws)), make([]time.Time, len(ws)), make([]time.Time, len(ws))
	for i, w := range ws {
		f[i], t[i] = ts(w.From), ts(w.To)
		if !f[i].Before(t[i]) {
			f[i] = t[i] // empty
		}
		d0[i], d1[i] = f[i].Truncate(day), t[i].Truncate(day)
		if d0[i].Before(f[i]) {
			d0[i] = d0[i].Add(day)
		}
		if !d0[i].Before(d1[i]) { // no whole day inside: the head is the window
			d0[i], d1[i] = t[i], t[i]
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT w.i::int,
		(SELECT count(*) FROM caught c WHERE c.repo_key = $1 AND c.at >= w.f AND c.at < w.d0 AND c.severity_rank >= $2)
		+ (SELECT count(*) FROM caught c WHERE c.repo_key = $1 AND c.at >= w.d1 AND c.at < w.t AND c.severity_rank >= $2)
		+ (SELECT coalesce(sum(n), 0)::bigint FROM caught_daily d WHERE d.repo_key = $1 AND d.day >= w.d0 AND d.day < w.d1 AND d.severity_rank >= $2)
		FROM unnest($3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[]) WITH ORDINALITY AS w(f, d0, d1, t, i)`,
		repoKey(repo), min.Rank(), f, d0, d1, t)
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int
		if err := rows.Scan(&i, &n); err != nil {
			return nil, fmt.Errorf("count caught in %s: %w", repo, err)
		}
		if i < 1 || i > len(out) {
			return nil, fmt.Errorf("count caught in %s: window %d of %d", repo, i, len(out))
		}
		out[i-1] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	return out, nil
}
