// Package bolt is the embedded store.Store backend: one bbolt file, one
// process. Records are JSON values (caught records, the bulk, a compact binary
// form: codec.go); secondary index buckets keyed by
// lower(repo) + big-endian time + id make the per-repository window queries
// range scans. Concurrent writes share a transaction, and so one commit and one
// fsync, through bbolt's DB.Batch (see Store.update and Options.MaxBatchDelay).
package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Bucket names. Changing the layout means a new store.SchemaVersion and a step in migrations.
var (
	bMeta            = []byte("meta")
	bDeliveries      = []byte("deliveries")          // id -> time
	bInstallations   = []byte("installations")       // be64(id) -> JSON
	bRepos           = []byte("repos")               // lower(full name) -> JSON
	bReposByInst     = []byte("repos_by_inst")       // be64(installation) + lower(full name) -> ""
	bScans           = []byte("scans")               // lower(repo) 0 sha -> JSON
	bCaught          = []byte("caught")              // lower(repo) 0 fingerprint -> caught_by_time key
	bCaughtByTime    = []byte("caught_by_time")      // lower(repo) 0 time fingerprint -> encodeCaught
	bExceptions      = []byte("exceptions")          // be64(id) -> JSON
	bExcByDelivery   = []byte("exc_by_delivery")     // delivery id -> be64(id)
	bExcByTime       = []byte("exc_by_time")         // lower(repo) 0 created be64(id) -> ""
	bExcByPR         = []byte("exc_by_pr")           // lower(repo) 0 be64(pr) created be64(id) -> ""
	bRefused         = []byte("refused")             // lower(repo) 0 time be64(seq) -> JSON
	bRefByDelivery   = []byte("refused_by_delivery") // delivery id -> ""
	bEscapes         = []byte("escapes")             // be64(id) -> JSON
	bEscByFP         = []byte("esc_by_fp")           // lower(repo) 0 fingerprint -> be64(id)
	bEscByDetected   = []byte("esc_by_detected")     // lower(repo) 0 detected be64(id) -> ""
	bSettings        = []byte("settings")            // key -> value
	bPending         = []byte("pending")             // lower(repo) 0 be64(seq) -> JSON escape (version 2)
	bPendingByFP     = []byte("pending_by_fp")       // lower(repo) 0 fingerprint -> be64(seq) (version 2)
	bLastRelease     = []byte("last_release")        // lower(repo) -> JSON release (version 2)
	bReleaseComments = []byte("release_comments")    // lower(repo) 0 be64(pr) -> be64(comment id) (version 2)
	bCaughtDaily     = []byte("caught_daily")        // lower(repo) 0 day -> be64 count per severity rank (version 4, daily.go)
	keySchemaVersion = []byte("schema_version")
)

// migrations[i] brings the layout from version i to i+1.
var migrations = []func(tx *bbolt.Tx) error{
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bDeliveries, bInstallations, bRepos, bReposByInst, bScans, bCaught,
			bCaughtByTime, bExceptions, bExcByDelivery, bExcByTime, bExcByPR, bRefused, bRefByDelivery,
			bEscapes, bEscByFP, bEscByDetected, bSettings} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// Version 2: pending escapes, the last release and release comment ids get
	// buckets of their own; the settings that held them move there.
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bPending, bPendingByFP, bLastRelease, bReleaseComments} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return moveLegacySettings(tx)
	},
	// Version 3: the durable inbox (inbox.go).
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bInbox, bInboxByID, bInboxDead} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// Version 4: daily counts of the caught records (daily.go), built from those
	// stored; escapes and exceptions in their binary form (recordcodec.go).
	func(tx *bbolt.Tx) error {
		if err := buildDaily(tx); err != nil {
			return err
		}
		return recodeRecords(tx)
	},
}

// DefaultLockTimeout is how long Open waits for another process to release the file.
const DefaultLockTimeout = 500 * time.Millisecond

// DefaultMaxBatchDelay is how long a write that finds another write in flight
// waits for more to share its commit (see Options.MaxBatchDelay). It is below
// the cost of one fdatasync, which is what sharing a commit saves.
const DefaultMaxBatchDelay = 2 * time.Millisecond

// Options tune Open. The zero value is right for production.
type Options struct {
	// LockTimeout bounds the wait for the file lock; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// NoSync skips fsync on commit: for tests and benchmarks only, a crash loses data.
	NoSync bool
	// MaxBatchDelay is how long a write waits for concurrent writes to join its
	// transaction, so that they share one commit and one fsync (bbolt's DB.Batch).
	// A write that finds no other write in flight commits at once and does not
	// wait. 0 means DefaultMaxBatchDelay; a negative value turns batching off, so
	// every write commits alone.
	MaxBatchDelay time.Duration
	// ReadOnly opens the file for reading only, under a shared lock (several
	// readers, no writer). Opening for writing rebuilds bbolt's free-page list by
	// walking every page of the file (the list is not written on commit, which
	// keeps commits cheap), so a read-only open is what keeps a one-shot report
	// from paying for the whole ledger: it touches only the pages it reads.
	// Writes fail.
	ReadOnly bool
}

// Store is a bbolt-backed store.Store.
type Store struct {
	db       *bbolt.DB
	path     string
	batching bool
	writers  atomic.Int64 // writes between their start and their commit
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path. It does not migrate:
// call Migrate. When another process holds the file the error wraps store.ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout, NoSync: opts.NoSync, NoFreelistSync: true, ReadOnly: opts.ReadOnly})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt store %s: %w (bbolt allows one process per file: stop `escapegate serve` first, or use a postgres:// store to share it)", path, store.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	switch {
	case opts.MaxBatchDelay < 0:
	case opts.MaxBatchDelay == 0:
		db.MaxBatchDelay, s.batching = DefaultMaxBatchDelay, true
	default:
		db.MaxBatchDelay, s.batching = opts.MaxBatchDelay, true
	}
	return s, nil
}

// Close releases the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close bolt store %s: %w", s.path, err)
	}
	return nil
}

func readVersion(tx *bbolt.Tx) (int, error) {
	m := tx.Bucket(bMeta)
	if m == nil {
		return 0, nil
	}
	v := m.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("bolt store: bad schema version %q: %w", v, err)
	}
	return n, nil
}

// SchemaVersion returns the persisted schema version, 0 for a new file.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	return v, err
}

// Migrate applies the missing layout steps in one transaction. A file written
// by a newer build is refused rather than misread. It commits alone (db.Update,
// not update): it runs once at start, before other writes, and its refusal is an
// error that would only make a shared batch re-run the others.
func (s *Store) Migrate(ctx context.Context) error {
	if len(migrations) != store.SchemaVersion {
		return fmt.Errorf("bolt store: %d migrations for schema version %d", len(migrations), store.SchemaVersion)
	}
	return s.migrateTo(ctx, store.SchemaVersion)
}

// migrateTo brings the layout to version target (tests build older files with it).
func (s *Store) migrateTo(ctx context.Context, target int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return err
		}
		if v > store.SchemaVersion {
			return fmt.Errorf("bolt store %s has schema version %d, newer than this build's %d: upgrade escapegate", s.path, v, store.SchemaVersion)
		}
		m, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		for ; v < target; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate bolt store to version %d: %w", v+1, err)
			}
			if err := m.Put(keySchemaVersion, []byte(strconv.Itoa(v+1))); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
		}
		return nil
	})
}

// errNotMigrated explains a missing bucket: the file was never migrated.
func (s *Store) errNotMigrated(name []byte) error {
	return fmt.Errorf("bolt store %s: bucket %s missing: the schema is not migrated (run `escapegate migrate`)", s.path, name)
}

// buckets fetches the named buckets or explains that the store is not migrated.
func (s *Store) buckets(tx *bbolt.Tx, names ...[]byte) ([]*bbolt.Bucket, error) {
	out := make([]*bbolt.Bucket, len(names))
	for i, n := range names {
		b := tx.Bucket(n)
		if b == nil {
			return nil, s.errNotMigrated(n)
		}
		out[i] = b
	}
	return out, nil
}

func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// update runs fn in a write transaction, which it may share with concurrent
// writes (bbolt's DB.Batch) so that they pay for one commit and one fsync.
//
// bbolt may call a batched fn more than once, in a transaction that is then
// rolled back (when another fn of the batch fails, or fn itself fails and is
// re-run alone), and only the last call's transaction commits. So every fn
// given to update must be a function of the transaction alone: it reads its
// inputs without changing them, assigns (never accumulates into) the results
// it reports to its caller on every path, assigns ids inside the transaction
// (NextSequence is rolled back with it), and reports expected outcomes such as
// "not found" as results rather than errors, since an error makes bbolt re-run
// the whole batch without it.
//
// A write that finds no other write in flight commits at once (db.Update): a
// lone writer never waits for the batch delay.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !s.batching {
		return s.db.Update(fn)
	}
	defer s.writers.Add(-1)
	if s.writers.Add(1) == 1 {
		return s.db.Update(fn)
	}
	return s.db.Batch(fn)
}

// ts normalizes a time the way both backends keep it: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func put(b *bbolt.Bucket, key []byte, v any) error {
	raw, ok := encodeRecord(v)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode %T: %w", v, err)
		}
	}
	if err := b.Put(key, raw); err != nil {
		return fmt.Errorf("put %T: %w", v, err)
	}
	return nil
}

func decode(raw []byte, v any) error {
	if ok, err := decodeRecord(raw, v); ok {
		if err != nil {
			return fmt.Errorf("decode %T: %w", v, err)
		}
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// MarkDelivery returns true the first time id is seen.
func (s *Store) MarkDelivery(ctx context.Context, id string, at time.Time) (bool, error) {
	var first bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bDeliveries)
		if err != nil {
			return err
		}
		if bs[0].Get([]byte(id)) != nil {
			first = false
			return nil
		}
		first = true
		return bs[0].Put([]byte(id), appendTime(nil, ts(at)))
	})
	if err != nil {
		return false, fmt.Errorf("mark delivery: %w", err)
	}
	return first, nil
}

// DeliverySeen reports whether id is marked.
func (s *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	var seen bool
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bDeliveries)
		if err != nil {
			return err
		}
		seen = bs[0].Get([]byte(id)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("delivery seen: %w", err)
	}
	return seen, nil
}

// ForgetDelivery drops a delivery mark; an unknown id is not an error.
func (s *Store) ForgetDelivery(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bDeliveries)
		if err != nil {
			return err
		}
		return bs[0].Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("forget delivery: %w", err)
	}
	return nil
}

// PutInstallation creates or replaces an installation.
func (s *Store) PutInstallation(ctx context.Context, in store.Installation) error {
	in.CreatedAt, in.DeletedAt = ts(in.CreatedAt), ts(in.DeletedAt)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInstallations)
		if err != nil {
			return err
		}
		return put(bs[0], u64(uint64(in.ID)), in)
	})
	if err != nil {
		return fmt.Errorf("put installation %d: %w", in.ID, err)
	}
	return nil
}

// GetInstallation returns an installation or an error wrapping store.ErrNotFound.
func (s *Store) GetInstallation(ctx context.Context, id int64) (store.Installation, error) {
	var in store.Installation
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInstallations)
		if err != nil {
			return err
		}
		raw := bs[0].Get(u64(uint64(id)))
		if raw == nil {
			return store.ErrNotFound
		}
		return decode(raw, &in)
	})
	if err != nil {
		return store.Installation{}, fmt.Errorf("get installation %d: %w", id, err)
	}
	return in, nil
}

// ListInstallations lists every installation by id.
func (s *Store) ListInstallations(ctx context.Context) ([]store.Installation, error) {
	var out []store.Installation
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bInstallations)
		if err != nil {
			return err
		}
		return bs[0].ForEach(func(_, v []byte) error {
			var in store.Installation
			if err := decode(v, &in); err != nil {
				return err
			}
			out = append(out, in)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	return out, nil
}

// PutRepository creates or replaces a repository, keyed by its lower-cased name.
func (s *Store) PutRepository(ctx context.Context, r store.Repository) error {
	r.AddedAt, r.RemovedAt = ts(r.AddedAt), ts(r.RemovedAt)
	key := []byte(strings.ToLower(r.FullName))
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bRepos, bReposByInst)
		if err != nil {
			return err
		}
		if raw := bs[0].Get(key); raw != nil {
			var old store.Repository
			if err := decode(raw, &old); err != nil {
				return err
			}
			if err := bs[1].Delete(append(u64(uint64(old.InstallationID)), key...)); err != nil {
				return err
			}
		}
		if err := bs[1].Put(append(u64(uint64(r.InstallationID)), key...), nil); err != nil {
			return err
		}
		return put(bs[0], key, r)
	})
	if err != nil {
		return fmt.Errorf("put repository %s: %w", r.FullName, err)
	}
	return nil
}

// GetRepository finds a repository by name, in any case.
func (s *Store) GetRepository(ctx context.Context, fullName string) (store.Repository, error) {
	var r store.Repository
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bRepos)
		if err != nil {
			return err
		}
		raw := bs[0].Get([]byte(strings.ToLower(fullName)))
		if raw == nil {
			return store.ErrNotFound
		}
		return decode(raw, &r)
	})
	if err != nil {
		return store.Repository{}, fmt.Errorf("get repository %s: %w", fullName, err)
	}
	return r, nil
}

// ListRepositories lists an installation's repositories by lower-cased name.
func (s *Store) ListRepositories(ctx context.Context, installationID int64) ([]store.Repository, error) {
	var out []store.Repository
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bRepos, bReposByInst)
		if err != nil {
			return err
		}
		prefix := u64(uint64(installationID))
		c := bs[1].Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			raw := bs[0].Get(k[len(prefix):])
			if raw == nil {
				return fmt.Errorf("index names missing repository %q", k[len(prefix):])
			}
			var r store.Repository
			if err := decode(raw, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
	}
	return out, nil
}

// PutScan stores the scan of (repo, sha), replacing an earlier one.
func (s *Store) PutScan(ctx context.Context, sc store.Scan) error {
	sc.At = ts(sc.At)
	key := append(repoPrefix(sc.Repo), sc.SHA...)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bScans)
		if err != nil {
			return err
		}
		return put(bs[0], key, sc)
	})
	if err != nil {
		return fmt.Errorf("put scan %s@%s: %w", sc.Repo, sc.SHA, err)
	}
	return nil
}

// GetScan returns the newest scan of (repo, sha).
func (s *Store) GetScan(ctx context.Context, repo, sha string) (store.Scan, error) {
	var sc store.Scan
	key := append(repoPrefix(repo), sha...)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bScans)
		if err != nil {
			return err
		}
		raw := bs[0].Get(key)
		if raw == nil {
			return store.ErrNotFound
		}
		return decode(raw, &sc)
	})
	if err != nil {
		return store.Scan{}, fmt.Errorf("get scan %s@%s: %w", repo, sha, err)
	}
	return sc, nil
}

// RecordCaught keeps the first detection of (repo, fingerprint).
func (s *Store) RecordCaught(ctx context.Context, c store.Caught) (bool, error) {
	c.At = ts(c.At)
	var first bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bCaught, bCaughtByTime, bCaughtDaily)
		if err != nil {
			return err
		}
		first, err = recordCaught(bs[0], bs[1], bs[2], c)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record caught in %s: %w", c.Repo, err)
	}
	return first, nil
}

// recordCaught writes c (its time normalized) unless (repo, fingerprint) is known.
func recordCaught(byFP, byTime, daily *bbolt.Bucket, c store.Caught) (bool, error) {
	prefix := repoPrefix(c.Repo)
	key := append(append([]byte(nil), prefix...), c.Fingerprint...)
	if byFP.Get(key) != nil {
		return false, nil
	}
	tkey := append(appendTime(prefix, c.At), c.Fingerprint...)
	if err := byTime.Put(tkey, encodeCaught(c)); err != nil {
		return false, err
	}
	if err := byFP.Put(key, tkey); err != nil {
		return false, err
	}
	if err := addDaily(daily, prefix, c.At, checks.Severity(c.Severity).Rank(), 1); err != nil {
		return false, err
	}
	return true, nil
}

// RecordScan stores the scan and the first detections among caught in one transaction.
func (s *Store) RecordScan(ctx context.Context, sc store.Scan, caught []store.Caught) (int, error) {
	sc.At = ts(sc.At)
	key := append(repoPrefix(sc.Repo), sc.SHA...)
	raw, err := json.Marshal(sc)
	if err != nil {
		return 0, fmt.Errorf("record scan %s@%s: encode: %w", sc.Repo, sc.SHA, err)
	}
	norm := make([]store.Caught, len(caught))
	for i, c := range caught {
		c.At = ts(c.At)
		norm[i] = c
	}
	var firsts int
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bScans, bCaught, bCaughtByTime, bCaughtDaily)
		if err != nil {
			return err
		}
		if err := bs[0].Put(key, raw); err != nil {
			return fmt.Errorf("put scan: %w", err)
		}
		n := 0
		for _, c := range norm {
			first, err := recordCaught(bs[1], bs[2], bs[3], c)
			if err != nil {
				return fmt.Errorf("record caught in %s: %w", c.Repo, err)
			}
			if first {
				n++
			}
		}
		firsts = n
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
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bCaught)
		if err != nil {
			return err
		}
		found = bs[0].Get(append(repoPrefix(repo), fingerprint...)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("was caught in %s: %w", repo, err)
	}
	return found, nil
}

// scanWindow calls fn for every key in [prefix+from, prefix+to) of b.
func scanWindow(b *bbolt.Bucket, prefix []byte, w store.Window, fn func(k, v []byte) error) error {
	if !w.From.Before(w.To) {
		return nil
	}
	start, stop := windowBounds(prefix, ts(w.From), ts(w.To))
	c := b.Cursor()
	for k, v := c.Seek(start); k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// ListCaught lists the repository's first detections in the window, oldest first.
func (s *Store) ListCaught(ctx context.Context, repo string, w store.Window) ([]store.Caught, error) {
	var out []store.Caught
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		bs, err := s.buckets(tx, bCaughtByTime)
		if err != nil {
			return err
		}
		// Counting first (keys only) sizes the result once.
		n := 0
		if err := scanWindow(bs[0], repoPrefix(repo), w, func(_, _ []byte) error { n++; return nil }); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		out = make([]store.Caught, 0, n)
		d := newCaughtDecoder()
		d.fpEnd = make([]int, 0, n)
		d.fps = make([]byte, 0, n*64) // fingerprints are hex HMAC-SHA256
		err = scanWindow(bs[0], repoPrefix(repo), w, func(_, v []byte) error {
			c, err := d.decode(v)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			return err
		}
		d.finish(out)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list caught in %s: %w", repo, err)
	}
	return out, nil
}
