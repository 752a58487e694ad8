// Package escaperatetest holds an in-memory store.Store for the tests and
// benchmarks of the escape-rate, report and summary packages, which must not
// wait for (or depend on) a real backend. It is not a production backend:
// nothing is persisted and there is no conformance guarantee beyond what
// those tests need.
package escaperatetest

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

// MemStore keeps everything in maps behind one mutex.
type MemStore struct {
	mu            sync.Mutex
	deliveries    map[string]bool
	installations map[int64]store.Installation
	repos         map[string]store.Repository
	scans         map[string]store.Scan
	caught        map[string]*caughtIndex // repo → first detections
	exceptions    []store.Exception
	exceptionByID map[string]int64 // delivery → id
	refused       map[string]store.RefusedOverride
	escapes       map[string]map[string]store.Escape // repo → fingerprint → escape
	escapeSeq     int64
	settings      map[string][]byte
	schema        int
}

var _ store.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		deliveries:    map[string]bool{},
		installations: map[int64]store.Installation{},
		repos:         map[string]store.Repository{},
		scans:         map[string]store.Scan{},
		caught:        map[string]*caughtIndex{},
		exceptionByID: map[string]int64{},
		refused:       map[string]store.RefusedOverride{},
		escapes:       map[string]map[string]store.Escape{},
		settings:      map[string][]byte{},
	}
}

func key(repo string) string { return strings.ToLower(repo) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }

func (m *MemStore) MarkDelivery(_ context.Context, id string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deliveries[id] {
		return false, nil
	}
	m.deliveries[id] = true
	return true, nil
}

func (m *MemStore) ForgetDelivery(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.deliveries, id)
	return nil
}

func (m *MemStore) PutInstallation(_ context.Context, in store.Installation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.installations[in.ID] = in
	return nil
}

func (m *MemStore) GetInstallation(_ context.Context, id int64) (store.Installation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.installations[id]
	if !ok {
		return store.Installation{}, notFound(fmt.Sprintf("installation %d", id))
	}
	return in, nil
}

func (m *MemStore) ListInstallations(context.Context) ([]store.Installation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]store.Installation, 0, len(m.installations))
	for _, in := range m.installations {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b store.Installation) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *MemStore) PutRepository(_ context.Context, r store.Repository) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.repos[key(r.FullName)] = r
	return nil
}

func (m *MemStore) GetRepository(_ context.Context, fullName string) (store.Repository, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.repos[key(fullName)]
	if !ok {
		return store.Repository{}, notFound("repository " + fullName)
	}
	return r, nil
}

func (m *MemStore) ListRepositories(_ context.Context, installationID int64) ([]store.Repository, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Repository
	for _, r := range m.repos {
		if r.InstallationID == installationID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.Repository) int { return strings.Compare(key(a.FullName), key(b.FullName)) })
	return out, nil
}

func (m *MemStore) PutScan(_ context.Context, s store.Scan) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans[key(s.Repo)+"@"+s.SHA] = s
	return nil
}

func (m *MemStore) GetScan(_ context.Context, repo, sha string) (store.Scan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.scans[key(repo)+"@"+sha]
	if !ok {
		return store.Scan{}, notFound("scan " + repo + "@" + sha)
	}
	return s, nil
}

// caughtIndex keeps first detections by fingerprint and in time order, as an
// indexed backend would, so ListCaught costs the size of its answer.
type caughtIndex struct {
	byFP   map[string]bool
	byTime []store.Caught
}

func (m *MemStore) RecordCaught(_ context.Context, c store.Caught) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recordCaught(c), nil
}

// RecordScan stores the scan and the first detections among caught under one lock.
func (m *MemStore) RecordScan(_ context.Context, s store.Scan, caught []store.Caught) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scans[key(s.Repo)+"@"+s.SHA] = s
	n := 0
	for _, c := range caught {
		if m.recordCaught(c) {
			n++
		}
	}
	return n, nil
}

// recordCaught keeps c if its fingerprint is new in its repository; m.mu is held.
func (m *MemStore) recordCaught(c store.Caught) bool {
	ix := m.caught[key(c.Repo)]
	if ix == nil {
		ix = &caughtIndex{byFP: map[string]bool{}}
		m.caught[key(c.Repo)] = ix
	}
	if ix.byFP[c.Fingerprint] {
		return false
	}
	ix.byFP[c.Fingerprint] = true
	i := len(ix.byTime)
	if i > 0 && c.At.Before(ix.byTime[i-1].At) {
		i, _ = slices.BinarySearchFunc(ix.byTime, c.At, func(e store.Caught, t time.Time) int {
			if e.At.After(t) {
				return 1
			}
			return -1
		})
	}
	ix.byTime = slices.Insert(ix.byTime, i, c)
	return true
}

func (m *MemStore) WasCaught(_ context.Context, repo, fingerprint string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ix := m.caught[key(repo)]
	return ix != nil && ix.byFP[fingerprint], nil
}

// caughtIn returns the first detections in w (a view); the caller holds the lock.
func (m *MemStore) caughtIn(repo string, w store.Window) []store.Caught {
	ix := m.caught[key(repo)]
	if ix == nil {
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
	lo, hi := search(w.From), search(w.To)
	return ix.byTime[lo:max(lo, hi)]
}

func (m *MemStore) ListCaught(_ context.Context, repo string, w store.Window) ([]store.Caught, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.caughtIn(repo, w)), nil
}

func (m *MemStore) CountCaught(_ context.Context, repo string, w store.Window, minSeverity string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.caughtIn(repo, w) {
		if checks.Severity(c.Severity).AtLeast(checks.Severity(minSeverity)) {
			n++
		}
	}
	return n, nil
}

func (m *MemStore) AddException(_ context.Context, e store.Exception) (store.Exception, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.DeliveryID != "" {
		if id, ok := m.exceptionByID[e.DeliveryID]; ok {
			return m.exceptions[id-1], false, nil
		}
	}
	e.ID = int64(len(m.exceptions) + 1)
	m.exceptions = append(m.exceptions, e)
	if e.DeliveryID != "" {
		m.exceptionByID[e.DeliveryID] = e.ID
	}
	return e, true, nil
}

func (m *MemStore) UpdateException(_ context.Context, e store.Exception) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.ID < 1 || int(e.ID) > len(m.exceptions) {
		return notFound(fmt.Sprintf("exception %d", e.ID))
	}
	m.exceptions[e.ID-1] = e
	return nil
}

func (m *MemStore) GetException(_ context.Context, id int64) (store.Exception, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if id < 1 || int(id) > len(m.exceptions) {
		return store.Exception{}, notFound(fmt.Sprintf("exception %d", id))
	}
	return m.exceptions[id-1], nil
}

func (m *MemStore) ListExceptions(_ context.Context, repo string, pr int, w store.Window) ([]store.Exception, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Exception
	for _, e := range m.exceptions {
		if key(e.Repo) != key(repo) {
			continue
		}
		if (pr > 0 && e.PR == pr) || (pr <= 0 && w.Contains(e.CreatedAt)) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *MemStore) AddRefused(_ context.Context, r store.RefusedOverride) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.refused[r.DeliveryID]; ok {
		return false, nil
	}
	m.refused[r.DeliveryID] = r
	return true, nil
}

func (m *MemStore) ListRefused(_ context.Context, repo string, w store.Window) ([]store.RefusedOverride, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.RefusedOverride
	for _, r := range m.refused {
		if key(r.Repo) == key(repo) && w.Contains(r.At) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b store.RefusedOverride) int { return a.At.Compare(b.At) })
	return out, nil
}

func (m *MemStore) AddEscape(_ context.Context, e store.Escape) (store.Escape, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byFP := m.escapes[key(e.Repo)]
	if byFP == nil {
		byFP = map[string]store.Escape{}
		m.escapes[key(e.Repo)] = byFP
	}
	if old, ok := byFP[e.Fingerprint]; ok {
		return old, false, nil
	}
	m.escapeSeq++
	e.ID = m.escapeSeq
	byFP[e.Fingerprint] = e
	return e, true, nil
}

func (m *MemStore) ListEscapes(_ context.Context, repo string, w store.Window) ([]store.Escape, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Escape
	for _, e := range m.escapes[key(repo)] {
		if w.Contains(e.DetectedAt) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b store.Escape) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func (m *MemStore) GetSetting(_ context.Context, k string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.settings[k]
	if !ok {
		return nil, notFound("setting " + k)
	}
	return slices.Clone(v), nil
}

func (m *MemStore) PutSetting(_ context.Context, k string, v []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settings[k] = slices.Clone(v)
	return nil
}

func (m *MemStore) ClaimOnce(_ context.Context, k string, v []byte) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.settings[k]; ok {
		return false, nil
	}
	m.settings[k] = slices.Clone(v)
	return true, nil
}

func (m *MemStore) DeleteSetting(_ context.Context, k string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.settings, k)
	return nil
}

func (m *MemStore) SchemaVersion(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.schema, nil
}

func (m *MemStore) Migrate(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.schema = store.SchemaVersion
	return nil
}

func (m *MemStore) Close() error { return nil }
