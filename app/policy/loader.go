package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/seal"
	"github.com/escapegate/escapegate/store"
)

// Result is the effective policy of a repository and what the check run should
// say about it.
type Result struct {
	Policy Policy
	// Errors are the problems of invalid policy files; the last valid version of
	// such a file (or nothing) applies instead.
	Errors []*FileError
	// Refusals are the repository file's keys that would loosen the org policy.
	Refusals []Refusal
	// Warnings say when a file could not be read from GitHub and a cached copy applies.
	Warnings []string
	// Sources names the files in force, e.g. "acme/.github:escapegate.yml".
	Sources []string
}

// Option configures a Loader.
type Option func(*Loader)

// WithTTL makes the Loader reuse a file it checked less than ttl ago without
// asking GitHub at all. Zero (the default) re-validates on every Load with a
// conditional request; call Invalidate when a push changes a policy file.
func WithTTL(ttl time.Duration) Option { return func(l *Loader) { l.ttl = ttl } }

// WithSealer keeps the cached files sealed in the store (a policy file may hold anything
// its authors wrote, and the store file must hold nothing in plaintext that a copy of it
// could leak). Entries written unsealed by an older version are still read.
func WithSealer(s *seal.Sealer) Option { return func(l *Loader) { l.sealer = s } }

// Loader loads effective policies from the default branch, caching each file's
// content and ETag in the store's settings so that an unchanged file costs a 304.
type Loader struct {
	st     store.Store
	sealer *seal.Sealer // nil: cached files kept as they are
	now    func() time.Time
	ttl    time.Duration

	mu  sync.Mutex
	mem map[string]memFile // settings key → file checked recently
	// reads shares one GitHub read of a file among the events that need it at once (a
	// burst after a start or a TTL's end would otherwise send one each).
	reads singleflight.Group
}

type memFile struct {
	cached cachedFile
	state  fileState
	at     time.Time
}

// NewLoader returns a Loader that keeps its cache in st.
func NewLoader(st store.Store, now func() time.Time, opts ...Option) *Loader {
	if now == nil {
		now = time.Now
	}
	l := &Loader{st: st, now: now, mem: map[string]memFile{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// cachedFile is what the store keeps of one policy file, under cacheKey.
type cachedFile struct {
	ETag    string `json:"etag,omitempty"`
	Content []byte `json:"content,omitempty"`
	Missing bool   `json:"missing,omitempty"`
	Valid   bool   `json:"valid"`
	// LastValid is the newest content that parsed (read at LastValidAt; zero: none),
	// applied while the current one is invalid.
	LastValid   []byte    `json:"last_valid,omitempty"`
	LastValidAt time.Time `json:"last_valid_at,omitempty"`
	CheckedAt   time.Time `json:"checked_at"`
}

// fileState is one file as it applies: the parsed file in force (nil: none),
// the errors of its current content and a warning when GitHub could not be read.
type fileState struct {
	parsed  *Parsed
	errs    []*FileError
	warning string
	source  string
}

func cacheKey(r gh.Repo, path string) string {
	return "policy/" + strings.ToLower(r.Owner) + "/" + strings.ToLower(r.Name) + "/" + path
}

// MaxFileBytes is the most a policy file may hold.
const MaxFileBytes = 1 << 20

// Load returns the effective policy of repo: the org file of `<owner>/.github`
// (read at that repository's default branch, which GitHub uses when no ref is
// given, so no call is spent on finding it) and the repository file at
// defaultBranch, merged. Missing files leave the defaults; an invalid file is
// reported in Errors and its last valid version applies. A GitHub failure other
// than 404 falls back on the cached copy, or is returned when there is none.
func (l *Loader) Load(ctx context.Context, c gh.Client, repo gh.Repo, defaultBranch string) (Result, error) {
	orgRepo := gh.Repo{Owner: repo.Owner, Name: OrgRepo}
	org, err := l.file(ctx, c, orgRepo, OrgFile, "", true)
	if err != nil {
		return Result{}, fmt.Errorf("load org policy of %s: %w", repo.Owner, err)
	}
	own, err := l.file(ctx, c, repo, RepoFile, defaultBranch, false)
	if err != nil {
		return Result{}, fmt.Errorf("load policy of %s: %w", repo, err)
	}
	orgPolicy := org.parsed.Apply(Default())
	res := Result{}
	res.Policy, res.Refusals = Merge(orgPolicy, own.parsed)
	for _, s := range []fileState{org, own} {
		res.Errors = append(res.Errors, s.errs...)
		if s.warning != "" {
			res.Warnings = append(res.Warnings, s.warning)
		}
		if s.source != "" {
			res.Sources = append(res.Sources, s.source)
		}
	}
	if len(res.Sources) == 0 {
		res.Sources = []string{"built-in defaults"}
	}
	return res, nil
}

// Invalidate forgets what the Loader holds in memory for repo (and, for the
// org's `.github` repository, its org file), so the next Load asks GitHub.
// Call it when a push to a default branch changes a policy file.
func (l *Loader) Invalidate(repo gh.Repo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.mem, cacheKey(repo, RepoFile))
	delete(l.mem, cacheKey(repo, OrgFile))
}

// ValidateChanged validates the head version of a policy file that a pull request
// changes: its own errors and, for a repository file, the keys that the org
// policy would refuse. The policy in force stays the default branch's.
func (l *Loader) ValidateChanged(path string, content []byte, org Policy) []*FileError {
	isOrg := path == OrgFile
	p, err := ParseFile(path, content, isOrg)
	if err != nil {
		var es Errors
		if errors.As(err, &es) {
			return es
		}
		return []*FileError{{File: path, Reason: err.Error()}}
	}
	if isOrg {
		return nil
	}
	_, refused := Merge(org, p)
	out := make([]*FileError, 0, len(refused))
	for _, r := range refused {
		out = append(out, r.FileError())
	}
	return out
}

// file returns the state of one policy file, asking GitHub conditionally; concurrent
// callers for one file share the answer.
func (l *Loader) file(ctx context.Context, c gh.Client, repo gh.Repo, path, ref string, org bool) (fileState, error) {
	key := cacheKey(repo, path)
	if st, ok := l.fresh(key); ok {
		return st, nil
	}
	v, err, _ := l.reads.Do(key+"@"+ref, func() (any, error) {
		if st, ok := l.fresh(key); ok {
			return st, nil // read by the call that just ended
		}
		return l.read(ctx, c, repo, path, ref, org)
	})
	if err != nil {
		return fileState{}, err
	}
	return v.(fileState), nil
}

// fresh returns the state in memory of a file checked less than the TTL ago.
func (l *Loader) fresh(key string) (fileState, bool) {
	l.mu.Lock()
	m, inMem := l.mem[key]
	l.mu.Unlock()
	if inMem && l.ttl > 0 && l.now().Sub(m.at) < l.ttl {
		return m.state, true
	}
	return fileState{}, false
}

// read asks GitHub for one policy file, conditionally when a copy is cached.
func (l *Loader) read(ctx context.Context, c gh.Client, repo gh.Repo, path, ref string, org bool) (fileState, error) {
	key := cacheKey(repo, path)
	now := l.now()
	l.mu.Lock()
	m, inMem := l.mem[key]
	l.mu.Unlock()
	cached := m.cached
	if !inMem {
		var err error
		if cached, err = l.cached(ctx, key); err != nil {
			return fileState{}, err
		}
	}
	etag := ""
	if !cached.Missing {
		etag = cached.ETag
	}
	name := repo.String() + ":" + path
	got, err := c.GetContent(ctx, repo, path, ref, etag)
	if err == nil && len(got.Data) > MaxFileBytes {
		// A policy is a page of YAML: a huge file is refused before it is parsed.
		err = fmt.Errorf("%w: %d bytes, more than the %d a policy file may have", gh.ErrTooLarge, len(got.Data), MaxFileBytes)
	}
	var next cachedFile
	switch {
	case errors.Is(err, gh.ErrNotFound):
		// No file: the defaults (or the org's policy) apply. A deleted file's last
		// valid copy is not kept in force, since deleting it is a change of policy.
		next = cachedFile{Missing: true, CheckedAt: now}
	case err != nil:
		if cached.LastValidAt.IsZero() && !cached.Missing {
			return fileState{}, fmt.Errorf("read %s: %w", name, err)
		}
		st := l.state(name, org, cached)
		st.warning = fmt.Sprintf("%s could not be read from GitHub (%v); the copy read at %s applies",
			name, err, cached.CheckedAt.UTC().Format(time.RFC3339))
		return st, nil
	case got.NotModified:
		next = cached
		next.CheckedAt = now
		if got.ETag != "" {
			next.ETag = got.ETag
		}
		if inMem {
			// Same content as the state in memory: nothing to parse or write.
			l.remember(key, next, m.state, now)
			return m.state, nil
		}
	default:
		next = cachedFile{ETag: got.ETag, Content: got.Data, CheckedAt: now,
			LastValid: cached.LastValid, LastValidAt: cached.LastValidAt}
		if _, perr := ParseFile(path, got.Data, org); perr == nil {
			next.Valid, next.LastValid, next.LastValidAt = true, got.Data, now
		}
	}
	if !got.NotModified && !(next.Missing && cached.Missing) {
		// A 304, or a file still missing, changes nothing worth a store write.
		if perr := l.put(ctx, key, next); perr != nil {
			return fileState{}, perr
		}
	}
	st := l.state(name, org, next)
	l.remember(key, next, st, now)
	return st, nil
}

func (l *Loader) remember(key string, cf cachedFile, st fileState, at time.Time) {
	l.mu.Lock()
	l.mem[key] = memFile{cached: cf, state: st, at: at}
	l.mu.Unlock()
}

// state parses a cached file into the file in force and the current errors.
func (l *Loader) state(name string, org bool, cf cachedFile) fileState {
	if cf.Missing {
		return fileState{}
	}
	path := name[strings.IndexByte(name, ':')+1:]
	p, err := ParseFile(path, cf.Content, org)
	if err == nil {
		return fileState{parsed: p, source: name}
	}
	st := fileState{}
	var es Errors
	if errors.As(err, &es) {
		st.errs = es
	} else {
		st.errs = []*FileError{{File: path, Reason: err.Error()}}
	}
	if org {
		// The check run is on another repository: name the org file with its repository.
		for _, e := range st.errs {
			e.File = strings.Replace(name, ":", "/", 1)
		}
	}
	if !cf.LastValidAt.IsZero() {
		if lv, lerr := ParseFile(path, cf.LastValid, org); lerr == nil {
			st.parsed = lv
			st.source = fmt.Sprintf("%s (last valid version, read %s)", name, cf.LastValidAt.UTC().Format(time.RFC3339))
		}
	}
	return st
}

func (l *Loader) cached(ctx context.Context, key string) (cachedFile, error) {
	var cf cachedFile
	b, err := l.st.GetSetting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return cf, nil
	}
	if err != nil {
		return cf, fmt.Errorf("read cached policy %s: %w", key, err)
	}
	if l.sealer != nil {
		if b, err = l.sealer.Open(b, key); err != nil {
			return cachedFile{}, nil // another key, or damaged: one full read mends it
		}
	}
	if err := json.Unmarshal(b, &cf); err != nil {
		// A damaged cache entry costs one full read, never a wrong policy.
		return cachedFile{}, nil
	}
	return cf, nil
}

func (l *Loader) put(ctx context.Context, key string, cf cachedFile) error {
	b, err := json.Marshal(cf)
	if err != nil {
		return fmt.Errorf("encode cached policy %s: %w", key, err)
	}
	if l.sealer != nil {
		if b, err = l.sealer.Seal(b, key); err != nil {
			return fmt.Errorf("seal cached policy %s: %w", key, err)
		}
	}
	if err := l.st.PutSetting(ctx, key, b); err != nil {
		return fmt.Errorf("cache policy %s: %w", key, err)
	}
	return nil
}
