// Command seed fills a store with a large, deterministic escape-rate ledger, so
// that `escapegate report` and `escapegate summary --dry-run` can be measured as
// processes against it (BENCHMARKS.md). It writes through the store's own
// interface, in batched transactions, and migrates the store first.
//
//	go run ./bench/seed -store bolt:/tmp/eg-report.db -preset report -reset
//	go run ./bench/seed -store 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=eg_org' -preset org -reset
//
// -preset report: one repository (acme/repo-00000) with 1,000,000 caught findings
// over a year, half critical, every 100th escaping (10,000 escapes, half of them
// overridden with an exception) plus 100 missed.
// -preset org: the organisation acme with 10,000 repositories of 100 caught
// findings each (every 10th escaping, one missed), and 500 other installations
// of 4 repositories each.
// The shape flags override a preset's values.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/open"
	"github.com/escapegate/escapegate/store/postgres"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

var presets = map[string]shape{
	"report": {Repos: 1, CaughtPerRepo: 1_000_000, EscapeEvery: 100, MissedPerRepo: 100},
	"org":    {Repos: 10_000, CaughtPerRepo: 100, EscapeEvery: 10, MissedPerRepo: 1, OtherInstallations: 500, OtherRepos: 4, OtherCaught: 20},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	storeURL := fs.String("store", "", "bolt:/path/file.db or postgres://...?search_path=SCHEMA")
	preset := fs.String("preset", "report", "report or org")
	reset := fs.Bool("reset", false, "start from an empty store: remove the bolt file, or drop and create the DSN's search_path schema")
	account := fs.String("org", "acme", "the organisation's login")
	instID := fs.Int64("installation", 1, "the organisation's installation id (other installations follow it)")
	end := fs.String("end", "2026-11-28", "the day the data ends (YYYY-MM-DD, UTC)")
	spanDays := fs.Int("span-days", 365, "how many days the data covers, up to -end")
	batch := fs.Int("batch", 5000, "caught findings per transaction")
	workers := fs.Int("workers", 4, "repositories written at once")
	repos := fs.Int("repos", -1, "repositories of the organisation (default: the preset's)")
	caught := fs.Int("caught", -1, "caught findings per repository (default: the preset's)")
	escapeEvery := fs.Int("escape-every", -1, "every n-th caught finding escapes, 0 none (default: the preset's)")
	missed := fs.Int("missed", -1, "missed escapes per repository (default: the preset's)")
	others := fs.Int("other-installations", -1, "other installations (default: the preset's)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sh, ok := presets[*preset]
	if !ok || *storeURL == "" {
		fmt.Fprintln(stderr, "seed: -store URL and -preset report|org are required")
		return 2
	}
	endAt, err := time.Parse("2006-01-02", *end)
	if err != nil {
		fmt.Fprintf(stderr, "seed: -end %q: want YYYY-MM-DD\n", *end)
		return 2
	}
	sh.Account, sh.InstallationID, sh.End, sh.Span = *account, *instID, endAt.UTC(), time.Duration(*spanDays)*24*time.Hour
	sh.Batch, sh.Workers = max(1, *batch), max(1, *workers)
	for _, o := range []struct {
		flag int
		to   *int
	}{{*repos, &sh.Repos}, {*caught, &sh.CaughtPerRepo}, {*escapeEvery, &sh.EscapeEvery}, {*missed, &sh.MissedPerRepo}, {*others, &sh.OtherInstallations}} {
		if o.flag >= 0 {
			*o.to = o.flag
		}
	}
	st, err := openStore(ctx, *storeURL, *reset)
	if err != nil {
		fmt.Fprintln(stderr, "seed:", err)
		return 1
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintln(stderr, "seed: migrate:", err)
		return 1
	}
	start := time.Now()
	t, err := seed(ctx, st, sh)
	if err != nil {
		fmt.Fprintln(stderr, "seed:", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d installations, %d repositories, %d caught, %d escapes, %d exceptions in %s\n",
		t.Installations, t.Repos, t.Caught, t.Escapes, t.Exceptions, time.Since(start).Round(time.Millisecond))
	return 0
}

// openStore opens the store to seed; a bolt file is written without fsync (a crash
// while seeding only means seeding again).
func openStore(ctx context.Context, raw string, reset bool) (store.Store, error) {
	kind, target, err := open.Parse(raw)
	if err != nil {
		return nil, err
	}
	if kind == open.Bolt {
		if reset {
			if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("reset: %w", err)
			}
		}
		return bolt.Open(target, bolt.Options{NoSync: true})
	}
	if reset {
		if err := resetSchema(ctx, target); err != nil {
			return nil, err
		}
	}
	return postgres.Open(ctx, target)
}

// resetSchema drops and creates the schema that the DSN's search_path names.
func resetSchema(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil {
		return errors.New("reset: the DSN is not a postgres:// URL")
	}
	schema := u.Query().Get("search_path")
	if schema == "" {
		return errors.New("reset: the DSN names no search_path schema (refusing to drop public)")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("reset: connect: %w", err)
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+id+" CASCADE"); err != nil {
		return fmt.Errorf("reset: drop schema: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+id); err != nil {
		return fmt.Errorf("reset: create schema: %w", err)
	}
	return nil
}
