// Package memstore is an in-memory store.Store: maps behind one lock, with the
// same semantics as the bbolt and PostgreSQL backends (it passes the storetest
// conformance suite). It persists nothing, so it is for unit tests, benchmarks
// and demos of the packages above the store; it imports no test code and is
// safe for concurrent use.
//
// Times are kept as the other backends keep them (UTC, microseconds) and every
// value going in or out is copied, so a caller never shares memory with the store.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Store keeps everything in maps behind one read-write lock: each method is one
// critical section, so each is atomic, as a transaction of the other backends is.
type Store struct {
	mu            sync.RWMutex
	deliveries    map[string]bool
	installations map[int64]store.Installation
	repos         map[string]store.Repository
	scans         map[scanKey]store.Scan
	caught        map[string]*caughtIndex // lower(repo) → first detections
	exceptions    []store.Exception       // exceptions[id-1]
	excByDelivery map[string]int64
	refused       []store.RefusedOverride // in insertion order
	refDelivery   map[string]bool
	escapes       []store.Escape              // escapes[id-1]
	escByFP       map[string]map[string]int64 // lower(repo) → fingerprint → id
	pending       map[string]*pendingList     // lower(repo) → escapes waiting for production
	releases      map[string]store.Release
	comments      map[commentKey]int64
	settings      map[string][]byte
	schema        int
	in            inbox
}

type commentKey struct {
	repo string
	pr   int
}

// pendingList is a repository's pending escapes in the order they were added.
type pendingList struct {
	escapes []store.Escape
	fps     map[string]bool
}

var _ store.Store = (*Store)(nil)

type scanKey struct{ repo, sha string }

// New returns an empty store. It is usable at once; Migrate only records the
// schema version, as there is no layout to change.
func New() *Store {
	return &Store{
		deliveries:    map[string]bool{},
		installations: map[int64]store.Installation{},
		repos:         map[string]store.Repository{},
		scans:         map[scanKey]store.Scan{},
		caught:        map[string]*caughtIndex{},
		excByDelivery: map[string]int64{},
		refDelivery:   map[string]bool{},
		escByFP:       map[string]map[string]int64{},
		pending:       map[string]*pendingList{},
		releases:      map[string]store.Release{},
		comments:      map[commentKey]int64{},
		settings:      map[string][]byte{},
		in:            inbox{dead: map[string]store.Delivery{}},
	}
}

func key(repo string) string { return strings.ToLower(repo) }

// ts normalizes a time the way the other backends keep it: UTC, microseconds.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }

// lock takes the write lock unless ctx is already done.
func (m *Store) lock(ctx context.Context) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	return m.mu.Unlock, nil
}

// rlock takes the read lock unless ctx is already done.
func (m *Store) rlock(ctx context.Context) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	return m.mu.RUnlock, nil
}

// orNil keeps the backends' answer for an empty list: nil.
func orNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// MarkDelivery returns true the first time id is seen.
func (m *Store) MarkDelivery(ctx context.Context, id string, _ time.Time) (bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("mark delivery: %w", err)
	}
	defer unlock()
	if m.deliveries[id] {
		return false, nil
	}
	m.deliveries[id] = true
	return true, nil
}

// DeliverySeen reports whether id is marked.
func (m *Store) DeliverySeen(ctx context.Context, id string) (bool, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return false, fmt.Errorf("delivery seen: %w", err)
	}
	defer unlock()
	return m.deliveries[id], nil
}

// ForgetDelivery drops a delivery mark; an unknown id is not an error.
func (m *Store) ForgetDelivery(ctx context.Context, id string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("forget delivery: %w", err)
	}
	defer unlock()
	delete(m.deliveries, id)
	return nil
}

// PutInstallation creates or replaces an installation.
func (m *Store) PutInstallation(ctx context.Context, in store.Installation) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put installation %d: %w", in.ID, err)
	}
	defer unlock()
	in.CreatedAt, in.DeletedAt = ts(in.CreatedAt), ts(in.DeletedAt)
	m.installations[in.ID] = in
	return nil
}

// GetInstallation returns an installation or an error wrapping store.ErrNotFound.
func (m *Store) GetInstallation(ctx context.Context, id int64) (store.Installation, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Installation{}, fmt.Errorf("get installation %d: %w", id, err)
	}
	defer unlock()
	in, ok := m.installations[id]
	if !ok {
		return store.Installation{}, notFound(fmt.Sprintf("get installation %d", id))
	}
	return in, nil
}

// ListInstallations lists every installation by id.
func (m *Store) ListInstallations(ctx context.Context) ([]store.Installation, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list installations: %w", err)
	}
	defer unlock()
	out := make([]store.Installation, 0, len(m.installations))
	for _, in := range m.installations {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b store.Installation) int { return cmp.Compare(a.ID, b.ID) })
	return orNil(out), nil
}

// PutRepository creates or replaces a repository, keyed by its lower-cased name.
func (m *Store) PutRepository(ctx context.Context, r store.Repository) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put repository %s: %w", r.FullName, err)
	}
	defer unlock()
	r.AddedAt, r.RemovedAt = ts(r.AddedAt), ts(r.RemovedAt)
	m.repos[key(r.FullName)] = r
	return nil
}

// GetRepository finds a repository by name, in any case.
func (m *Store) GetRepository(ctx context.Context, fullName string) (store.Repository, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Repository{}, fmt.Errorf("get repository %s: %w", fullName, err)
	}
	defer unlock()
	r, ok := m.repos[key(fullName)]
	if !ok {
		return store.Repository{}, notFound("get repository " + fullName)
	}
	return r, nil
}

// ListRepositories lists an installation's repositories by lower-cased name.
func (m *Store) ListRepositories(ctx context.Context, installationID int64) ([]store.Repository, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
	}
	defer unlock()
	var out []store.Repository
	for _, r := range m.repos {
		if r.InstallationID == installationID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.Repository) int { return strings.Compare(key(a.FullName), key(b.FullName)) })
	return out, nil
}

func normScan(s store.Scan) store.Scan {
	s.At = ts(s.At)
	s.Findings = slices.Clone(s.Findings)
	return s
}

// PutScan stores the scan of (repo, sha), replacing an earlier one.
func (m *Store) PutScan(ctx context.Context, s store.Scan) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put scan %s@%s: %w", s.Repo, s.SHA, err)
	}
	defer unlock()
	m.scans[scanKey{key(s.Repo), s.SHA}] = normScan(s)
	return nil
}

// GetScan returns the newest scan of (repo, sha).
func (m *Store) GetScan(ctx context.Context, repo, sha string) (store.Scan, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Scan{}, fmt.Errorf("get scan %s@%s: %w", repo, sha, err)
	}
	defer unlock()
	s, ok := m.scans[scanKey{key(repo), sha}]
	if !ok {
		return store.Scan{}, notFound("get scan " + repo + "@" + sha)
	}
	s.Findings = slices.Clone(s.Findings)
	return s, nil
}

// caughtIndex keeps first detections by fingerprint and in (time, fingerprint)
// order, the order the other backends list them in, so that ListCaught costs
// the size of its answer.
type caughtIndex struct {
	byFP   map[string]bool
	byTime []store.Caught
}

func compareCaught(a store.Caught, b store.Caught) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	return strings.Compare(a.Fingerprint, b.Fingerprint)
}

// RecordCaught keeps the first detection of (repo, fingerprint).
func (m *Store) RecordCaught(ctx context.Context, c store.Caught) (bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("record caught in %s: %w", c.Repo, err)
	}
	defer unlock()
	return m.recordCaught(c), nil
}

// RecordScan stores the scan and the first detections among caught under one lock.
func (m *Store) RecordScan(ctx context.Context, s store.Scan, caught []store.Caught) (int, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return 0, fmt.Errorf("record scan %s@%s: %w", s.Repo, s.SHA, err)
	}
	defer unlock()
	m.scans[scanKey{key(s.Repo), s.SHA}] = normScan(s)
	n := 0
	for _, c := range caught {
		if m.recordCaught(c) {
			n++
		}
	}
	return n, nil
}

// recordCaught keeps c if its fingerprint is new in its repository; m.mu is held.
func (m *Store) recordCaught(c store.Caught) bool {
	c.At = ts(c.At)
	ix := m.caught[key(c.Repo)]
	if ix == nil {
		ix = &caughtIndex{byFP: map[string]bool{}}
		m.caught[key(c.Repo)] = ix
	}
	if ix.byFP[c.Fingerprint] {
		return false
	}
	ix.byFP[c.Fingerprint] = true
	// Records mostly arrive in time order: appending is the common case.
	i := len(ix.byTime)
	if i > 0 && compareCaught(c, ix.byTime[i-1]) < 0 {
		i, _ = slices.BinarySearchFunc(ix.byTime, c, compareCaught)
	}
	ix.byTime = slices.Insert(ix.byTime, i, c)
	return true
}

// WasCaught reports whether a PR check ever raised the fingerprint in the repository.
func (m *Store) WasCaught(ctx context.Context, repo, fingerprint string) (bool, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return false, fmt.Errorf("was caught in %s: %w", repo, err)
	}
	defer unlock()
	ix := m.caught[key(repo)]
	return ix != nil && ix.byFP[fingerprint], nil
}

// caughtIn returns the first detections in w (a view of the index); m.mu is held.
func (m *Store) caughtIn(repo string, w store.Window) []store.Caught {
	ix := m.caught[key(repo)]
	from, to := ts(w.From), ts(w.To)
	if ix == nil || !from.Before(to) {
		return nil
	}
	search := func(t time.Time) int {
		i, _ := slices.BinarySearchFunc(ix.byTime, t, func(e store.Caught, t time.Time) int {
			if e.At.Before(t) {
				return -1
			}
			return 1
		})
		return i
	}
	return ix.byTime[search(from):search(to)]
}

// ListCaught lists the repository's first detections in the window, oldest first.
func (m *Store) ListCaught(ctx context.Context, repo string, w store.Window) ([]store.Caught, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list caught in %s: %w", repo, err)
	}
	defer unlock()
	return orNil(slices.Clone(m.caughtIn(repo, w))), nil
}

// CountCaughtWindows counts each window as CountCaught does: the memory store keeps
// no daily counts, so it is the straightforward count the other backends must equal.
func (m *Store) CountCaughtWindows(ctx context.Context, repo string, ws []store.Window, minSeverity string) ([]int, error) {
	out := make([]int, len(ws))
	for i, w := range ws {
		n, err := m.CountCaught(ctx, repo, w, minSeverity)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// CountCaught counts detections in the window at or above minSeverity.
func (m *Store) CountCaught(ctx context.Context, repo string, w store.Window, minSeverity string) (int, error) {
	min, err := checks.ParseSeverity(minSeverity)
	if err != nil {
		return 0, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	unlock, err := m.rlock(ctx)
	if err != nil {
		return 0, fmt.Errorf("count caught in %s: %w", repo, err)
	}
	defer unlock()
	n := 0
	for _, c := range m.caughtIn(repo, w) {
		if checks.Severity(c.Severity).AtLeast(min) {
			n++
		}
	}
	return n, nil
}

func normException(e store.Exception) store.Exception {
	e.CreatedAt, e.ExpiresAt, e.EndedAt = ts(e.CreatedAt), ts(e.ExpiresAt), ts(e.EndedAt)
	if e.State == "" {
		e.State = store.ExceptionActive
	}
	e.Fingerprints = slices.Clone(e.Fingerprints)
	return e
}

// exception returns a copy of the exception with id, if there is one; m.mu is held.
func (m *Store) exception(id int64) (store.Exception, bool) {
	if id < 1 || id > int64(len(m.exceptions)) {
		return store.Exception{}, false
	}
	e := m.exceptions[id-1]
	e.Fingerprints = slices.Clone(e.Fingerprints)
	return e, true
}

// AddException assigns the next id; a repeated non-empty DeliveryID returns the
// first exception and false.
func (m *Store) AddException(ctx context.Context, e store.Exception) (store.Exception, bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return store.Exception{}, false, fmt.Errorf("add exception in %s: %w", e.Repo, err)
	}
	defer unlock()
	if e.DeliveryID != "" {
		if id, ok := m.excByDelivery[e.DeliveryID]; ok {
			old, _ := m.exception(id)
			return old, false, nil
		}
	}
	e = normException(e)
	e.ID = int64(len(m.exceptions) + 1)
	m.exceptions = append(m.exceptions, e)
	if e.DeliveryID != "" {
		m.excByDelivery[e.DeliveryID] = e.ID
	}
	out, _ := m.exception(e.ID)
	return out, true, nil
}

// UpdateException replaces an existing exception (state, end, revoker ...); the id must exist.
func (m *Store) UpdateException(ctx context.Context, e store.Exception) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("update exception %d: %w", e.ID, err)
	}
	defer unlock()
	old, ok := m.exception(e.ID)
	if !ok {
		return notFound(fmt.Sprintf("update exception %d", e.ID))
	}
	if old.DeliveryID != e.DeliveryID {
		if old.DeliveryID != "" {
			delete(m.excByDelivery, old.DeliveryID)
		}
		if e.DeliveryID != "" {
			m.excByDelivery[e.DeliveryID] = e.ID
		}
	}
	m.exceptions[e.ID-1] = normException(e)
	return nil
}

// GetException returns an exception by id.
func (m *Store) GetException(ctx context.Context, id int64) (store.Exception, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Exception{}, fmt.Errorf("get exception %d: %w", id, err)
	}
	defer unlock()
	e, ok := m.exception(id)
	if !ok {
		return store.Exception{}, notFound(fmt.Sprintf("get exception %d", id))
	}
	return e, nil
}

// ListExceptions lists a repository's exceptions created in the window (of one
// PR when pr > 0), oldest first.
func (m *Store) ListExceptions(ctx context.Context, repo string, pr int, w store.Window) ([]store.Exception, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list exceptions in %s: %w", repo, err)
	}
	defer unlock()
	w = store.Window{From: ts(w.From), To: ts(w.To)}
	var out []store.Exception
	for id := range int64(len(m.exceptions)) {
		e := m.exceptions[id]
		if key(e.Repo) != key(repo) || (pr > 0 && e.PR != pr) || !w.Contains(e.CreatedAt) {
			continue
		}
		e, _ = m.exception(id + 1)
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b store.Exception) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// AddRefused records a refused override; a repeated non-empty DeliveryID is ignored.
func (m *Store) AddRefused(ctx context.Context, r store.RefusedOverride) (bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("add refused override in %s: %w", r.Repo, err)
	}
	defer unlock()
	if r.DeliveryID != "" {
		if m.refDelivery[r.DeliveryID] {
			return false, nil
		}
		m.refDelivery[r.DeliveryID] = true
	}
	r.At = ts(r.At)
	m.refused = append(m.refused, r)
	return true, nil
}

// ListRefused lists refused overrides in the window, oldest first.
func (m *Store) ListRefused(ctx context.Context, repo string, w store.Window) ([]store.RefusedOverride, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list refused overrides in %s: %w", repo, err)
	}
	defer unlock()
	w = store.Window{From: ts(w.From), To: ts(w.To)}
	var out []store.RefusedOverride
	for _, r := range m.refused {
		if key(r.Repo) == key(repo) && w.Contains(r.At) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b store.RefusedOverride) int { return a.At.Compare(b.At) })
	return out, nil
}

func normEscape(e store.Escape) store.Escape {
	e.DetectedAt, e.At = ts(e.DetectedAt), ts(e.At)
	return e
}

// AddEscape records an escape once per (repo, fingerprint); a repeat returns the first and false.
func (m *Store) AddEscape(ctx context.Context, e store.Escape) (store.Escape, bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return store.Escape{}, false, fmt.Errorf("add escape in %s: %w", e.Repo, err)
	}
	defer unlock()
	byFP := m.escByFP[key(e.Repo)]
	if byFP == nil {
		byFP = map[string]int64{}
		m.escByFP[key(e.Repo)] = byFP
	}
	if id, ok := byFP[e.Fingerprint]; ok {
		return m.escapes[id-1], false, nil
	}
	e = normEscape(e)
	e.ID = int64(len(m.escapes) + 1)
	m.escapes = append(m.escapes, e)
	byFP[e.Fingerprint] = e.ID
	return e, true, nil
}

// ListEscapes lists escapes whose DetectedAt is in the window, oldest first.
func (m *Store) ListEscapes(ctx context.Context, repo string, w store.Window) ([]store.Escape, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("list escapes in %s: %w", repo, err)
	}
	defer unlock()
	w = store.Window{From: ts(w.From), To: ts(w.To)}
	var out []store.Escape
	for _, id := range m.escByFP[key(repo)] {
		if e := m.escapes[id-1]; w.Contains(e.DetectedAt) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b store.Escape) int {
		if c := a.DetectedAt.Compare(b.DetectedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// AddPending keeps escapes for repo once per (repo, fingerprint).
func (m *Store) AddPending(ctx context.Context, repo string, escapes []store.Escape) (int, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return 0, fmt.Errorf("add pending escapes in %s: %w", repo, err)
	}
	defer unlock()
	l := m.pending[key(repo)]
	if l == nil {
		l = &pendingList{fps: map[string]bool{}}
		m.pending[key(repo)] = l
	}
	n := 0
	for _, e := range escapes {
		if l.fps[e.Fingerprint] {
			continue
		}
		l.fps[e.Fingerprint] = true
		l.escapes = append(l.escapes, normEscape(e))
		n++
	}
	return n, nil
}

// TakePending returns repo's pending escapes in the order they were added and removes them.
func (m *Store) TakePending(ctx context.Context, repo string) ([]store.Escape, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("take pending escapes of %s: %w", repo, err)
	}
	defer unlock()
	l := m.pending[key(repo)]
	delete(m.pending, key(repo))
	if l == nil {
		return nil, nil
	}
	return orNil(l.escapes), nil
}

// PutLastRelease keeps r unless the release kept was published later.
func (m *Store) PutLastRelease(ctx context.Context, repo string, r store.Release) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put last release of %s: %w", repo, err)
	}
	defer unlock()
	r.At = ts(r.At)
	if kept, ok := m.releases[key(repo)]; ok && kept.At.After(r.At) {
		return nil
	}
	m.releases[key(repo)] = r
	return nil
}

// GetLastRelease returns repo's last release or an error wrapping store.ErrNotFound.
func (m *Store) GetLastRelease(ctx context.Context, repo string) (store.Release, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return store.Release{}, fmt.Errorf("get last release of %s: %w", repo, err)
	}
	defer unlock()
	r, ok := m.releases[key(repo)]
	if !ok {
		return store.Release{}, notFound("get last release of " + repo)
	}
	return r, nil
}

// PutReleaseComment remembers the release comment id of a pull request.
func (m *Store) PutReleaseComment(ctx context.Context, repo string, pr int, commentID int64) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put release comment of %s#%d: %w", repo, pr, err)
	}
	defer unlock()
	m.comments[commentKey{key(repo), pr}] = commentID
	return nil
}

// GetReleaseComment returns the release comment id of a pull request.
func (m *Store) GetReleaseComment(ctx context.Context, repo string, pr int) (int64, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return 0, fmt.Errorf("get release comment of %s#%d: %w", repo, pr, err)
	}
	defer unlock()
	id, ok := m.comments[commentKey{key(repo), pr}]
	if !ok {
		return 0, notFound(fmt.Sprintf("get release comment of %s#%d", repo, pr))
	}
	return id, nil
}

// GetSetting returns a copy of a setting's value.
func (m *Store) GetSetting(ctx context.Context, k string) ([]byte, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return nil, fmt.Errorf("get setting %q: %w", k, err)
	}
	defer unlock()
	v, ok := m.settings[k]
	if !ok {
		return nil, notFound(fmt.Sprintf("get setting %q", k))
	}
	return nonNil(slices.Clone(v)), nil
}

// PutSetting sets a setting.
func (m *Store) PutSetting(ctx context.Context, k string, v []byte) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("put setting %q: %w", k, err)
	}
	defer unlock()
	m.settings[k] = slices.Clone(v)
	return nil
}

// ClaimOnce sets key only if it is absent.
func (m *Store) ClaimOnce(ctx context.Context, k string, v []byte) (bool, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return false, fmt.Errorf("claim %q: %w", k, err)
	}
	defer unlock()
	if _, ok := m.settings[k]; ok {
		return false, nil
	}
	m.settings[k] = slices.Clone(v)
	return true, nil
}

// DeleteSetting removes a setting; deleting an absent key wraps store.ErrNotFound.
func (m *Store) DeleteSetting(ctx context.Context, k string) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return fmt.Errorf("delete setting %q: %w", k, err)
	}
	defer unlock()
	if _, ok := m.settings[k]; !ok {
		return notFound(fmt.Sprintf("delete setting %q", k))
	}
	delete(m.settings, k)
	return nil
}

// nonNil keeps an empty value distinguishable from an absent key.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// SchemaVersion returns 0 for a new store, store.SchemaVersion once migrated.
func (m *Store) SchemaVersion(ctx context.Context) (int, error) {
	unlock, err := m.rlock(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return m.schema, nil
}

// Migrate records the schema version: there is no persisted layout to change.
func (m *Store) Migrate(ctx context.Context) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	m.schema = store.SchemaVersion
	return nil
}

// Close does nothing: the store lives as long as its last reference.
func (m *Store) Close() error { return nil }

// ReadLedgers answers each query with the store's own list and count methods:
// the straightforward reading the other backends' batched ones must equal.
func (m *Store) ReadLedgers(ctx context.Context, qs []store.LedgerQuery, minSeverity string) ([]store.Ledger, error) {
	out := make([]store.Ledger, len(qs))
	for i, q := range qs {
		var err error
		l := &out[i]
		if l.Escapes, err = m.ListEscapes(ctx, q.Repo, q.Escapes); err != nil {
			return nil, err
		}
		if l.Exceptions, err = m.ListExceptions(ctx, q.Repo, 0, q.Exceptions); err != nil {
			return nil, err
		}
		if l.Caught, err = m.CountCaughtWindows(ctx, q.Repo, q.Caught, minSeverity); err != nil {
			return nil, err
		}
	}
	return out, nil
}
