// Package gate is escapegate's domain: it checks pull requests, records
// override exceptions and refused attempts, accounts escapes when changes reach
// production, and keeps the release PR comment current. It talks to GitHub only
// through gh.Client and to persistence only through store.Store.
package gate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/seal"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/scan"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/store"
)

// CheckName is the name of the check run that branch protection requires.
const CheckName = "escapegate"

// Service holds the domain's dependencies. Create it with New.
type Service struct {
	store    store.Store
	clients  gh.Factory
	policies *policy.Loader
	fp       checks.Fingerprinter
	now      func() time.Time
	log      zerolog.Logger
	detail   string // public URL for check-run details links

	policyTTL time.Duration
	appID     int64 // this app's id: a check required from another app is not escapegate's
	revoker   gh.Revoker
	// inProgressAfter: a check whose scan takes longer gets its run in progress first.
	inProgressAfter time.Duration

	approverAttempts int // see SetApproverAttempts; 0: config.Default's retry.max_attempts

	mu        sync.Mutex
	engines   map[[32]byte]*secrets.Engine // by org rules content
	base      *secrets.Engine
	orgFiles  map[string]cachedFile
	repoLocks map[string]*sync.Mutex
	installs  map[int64]bool // installations known to have a store record

	// unscannedPushed counts files pushed to production that could not be scanned: what
	// they added is unknown, never counted clean (docs/metrics.md).
	unscannedPushed prometheus.Counter
}

// Options configures New.
type Options struct {
	Store          store.Store
	Clients        gh.Factory
	FingerprintKey []byte
	Now            func() time.Time
	Logger         zerolog.Logger
	PublicURL      string
	// PolicyTTL is how long a loaded policy is trusted before it is re-validated with a
	// conditional request; 0 re-validates on every event.
	PolicyTTL time.Duration
	// Revoker revokes GitHub tokens a PR adds, for orgs whose policy asks for it; nil: never.
	Revoker gh.Revoker
	// AppID is this GitHub App's id (0: unknown, any app's "escapegate" check counts as required).
	AppID int64
	// InProgressAfter is how long a scan may take before its check run is created in
	// progress (and completed when the scan ends); a faster scan's run is created
	// completed, in one call. 0 means DefaultInProgressAfter; negative, at once.
	InProgressAfter time.Duration
	// Secrets is the engine of the default secret rules (secrets.New with no extra
	// rules), for a caller that compiled it already; nil compiles it.
	Secrets *secrets.Engine
}

// New builds the service and compiles the default secret rules once (unless
// Options.Secrets holds them).
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Clients == nil {
		return nil, fmt.Errorf("gate: store and GitHub client factory are required")
	}
	if len(o.FingerprintKey) == 0 {
		return nil, fmt.Errorf("gate: a fingerprint key is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	eng := o.Secrets
	if eng == nil {
		var err error
		if eng, err = secrets.New(secrets.Options{}); err != nil {
			return nil, fmt.Errorf("compiling secret rules: %w", err)
		}
	}
	sealer, err := seal.New(o.FingerprintKey, seal.PolicyCache)
	if err != nil {
		return nil, err
	}
	return &Service{
		store:           o.Store,
		clients:         o.Clients,
		policies:        policy.NewLoader(o.Store, o.Now, policy.WithTTL(o.PolicyTTL), policy.WithSealer(sealer)),
		fp:              checks.NewFingerprinter(o.FingerprintKey),
		now:             func() time.Time { return o.Now().UTC() },
		log:             o.Logger,
		detail:          strings.TrimRight(o.PublicURL, "/"),
		policyTTL:       o.PolicyTTL,
		appID:           o.AppID,
		revoker:         o.Revoker,
		inProgressAfter: inProgressAfter(o.InProgressAfter),
		engines:         map[[32]byte]*secrets.Engine{},
		base:            eng,
		orgFiles:        map[string]cachedFile{},
		repoLocks:       map[string]*sync.Mutex{},
		installs:        map[int64]bool{},
		unscannedPushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "escapegate_push_unscanned_files_total",
			Help: "Files pushed to a production branch that could not be scanned (gone, over the size limit, GitHub errors, compressed files): unknown, not clean.",
		}),
	}, nil
}

// DefaultInProgressAfter is how long a scan may run before its check run shows as in
// progress: below it nobody watches the pull request's checks change, and the run costs
// one API call instead of two.
const DefaultInProgressAfter = time.Second

func inProgressAfter(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultInProgressAfter
	case d < 0:
		return 0
	}
	return d
}

// Collectors returns the service's Prometheus series, for the server's registry.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.unscannedPushed}
}

// Store returns the service's store (for reports served by the same process).
func (s *Service) Store() store.Store { return s.store }

// lockRepo serialises the release comment of one repository within this process, so
// two events do not both list the comments and post two (pending escapes and the
// comment ids themselves are transactional store records).
func (s *Service) lockRepo(repo gh.Repo) func() {
	key := strings.ToLower(repo.String())
	s.mu.Lock()
	m, ok := s.repoLocks[key]
	if !ok {
		m = &sync.Mutex{}
		s.repoLocks[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// logger is the delivery's logger when ctx carries one (it names the delivery,
// installation, repository and pull request), else the service's.
func (s *Service) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &s.log
}

// client returns the GitHub client of an installation.
func (s *Service) client(inst int64) (gh.Client, error) {
	c, err := s.clients(inst)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for installation %d: %w", inst, err)
	}
	return c, nil
}

// session is what handling one event of a repository needs: the installation's client
// and the repository's effective policy.
func (s *Service) session(ctx context.Context, inst int64, repo gh.Repo, defaultBranch string) (gh.Client, policy.Result, error) {
	c, err := s.client(inst)
	if err != nil {
		return nil, policy.Result{}, err
	}
	pol, err := s.Policy(ctx, c, repo, defaultBranch)
	if err != nil {
		return nil, policy.Result{}, err
	}
	return c, pol, nil
}

// Policy returns the effective policy of a repository (the loader trusts a file it
// checked less than PolicyTTL ago, then re-validates it with a conditional request).
func (s *Service) Policy(ctx context.Context, c gh.Client, repo gh.Repo, defaultBranch string) (policy.Result, error) {
	res, err := s.policies.Load(ctx, c, repo, defaultBranch)
	if err != nil {
		return policy.Result{}, fmt.Errorf("loading policy of %s: %w", repo, err)
	}
	return res, nil
}

// ForgetPolicy drops the cached policy of a repository (of the org, for its .github repository).
func (s *Service) ForgetPolicy(repo gh.Repo) {
	s.policies.Invalidate(repo)
	if strings.EqualFold(repo.Name, policy.OrgRepo) {
		s.mu.Lock()
		for k := range s.orgFiles {
			if strings.HasPrefix(k, strings.ToLower(repo.Owner)+"/") {
				delete(s.orgFiles, k)
			}
		}
		s.mu.Unlock()
	}
}

// orgFile reads a file of the org's .github repository (the secrets rules file), trusting
// a copy checked less than PolicyTTL ago and re-validating it with its ETag after that.
func (s *Service) orgFile(ctx context.Context, c gh.Client, owner, path string) ([]byte, error) {
	key := strings.ToLower(owner) + "/" + path
	s.mu.Lock()
	cf, ok := s.orgFiles[key]
	s.mu.Unlock()
	if ok && s.policyTTL > 0 && s.now().Sub(cf.at) < s.policyTTL {
		return cf.data, nil
	}
	repo := gh.Repo{Owner: owner, Name: policy.OrgRepo}
	ct, err := c.GetContent(ctx, repo, path, "", cf.etag)
	if err != nil {
		if ok && !isNotFound(err) {
			s.logger(ctx).Warn().Err(err).Str("file", key).Msg("using the cached copy of an org file")
			return cf.data, nil
		}
		return nil, fmt.Errorf("reading %s/%s: %w", repo, path, err)
	}
	if !ct.NotModified {
		cf.data, cf.etag = ct.Data, ct.ETag
	}
	cf.at = s.now()
	s.mu.Lock()
	s.orgFiles[key] = cf
	s.mu.Unlock()
	return cf.data, nil
}

type cachedFile struct {
	data []byte
	etag string
	at   time.Time
}

// engine returns the secret engine for an org's extra rules (compiled once per content).
func (s *Service) engine(extra []byte) (*secrets.Engine, error) {
	if len(extra) == 0 {
		return s.base, nil
	}
	sum := sha256.Sum256(extra)
	s.mu.Lock()
	e, ok := s.engines[sum]
	s.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := secrets.New(secrets.Options{ExtraRulesTOML: extra})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.engines[sum] = e
	s.mu.Unlock()
	return e, nil
}

// ensureRepo records a repository the first time an event names it, so that an app
// installed before its store existed still counts from this moment on.
func (s *Service) ensureRepo(ctx context.Context, inst int64, repo gh.Repo, id int64, defaultBranch string) (store.Repository, error) {
	if err := s.ensureInstallation(ctx, inst, repo.Owner); err != nil {
		return store.Repository{}, err
	}
	r, err := s.store.GetRepository(ctx, repo.String())
	if err == nil {
		if (defaultBranch != "" && r.DefaultBranch != defaultBranch) || (inst != 0 && r.InstallationID != inst) || !r.RemovedAt.IsZero() {
			r.DefaultBranch, r.InstallationID = defaultBranch, inst
			if !r.RemovedAt.IsZero() {
				r.RemovedAt, r.AddedAt = time.Time{}, s.now()
			}
			if err := s.store.PutRepository(ctx, r); err != nil {
				return r, fmt.Errorf("updating repository %s: %w", repo, err)
			}
		}
		return r, nil
	}
	if !isNotFound(err) {
		return store.Repository{}, fmt.Errorf("reading repository %s: %w", repo, err)
	}
	r = store.Repository{ID: id, InstallationID: inst, FullName: repo.String(), DefaultBranch: defaultBranch, AddedAt: s.now()}
	if err := s.store.PutRepository(ctx, r); err != nil {
		return r, fmt.Errorf("recording repository %s: %w", repo, err)
	}
	return r, nil
}

// scanFiles runs the scan step over the changed files GitHub listed. A file GitHub sent
// no patch for (a diff too large, a binary file) is read at head and scanned whole: a
// file with a patch costs no extra call. Media are listed as not scanned; a file that
// cannot be read (gone at head, over scan.MaxWholeBytes, a GitHub error after the
// client's retries) is listed as unscanned, which the verdict fails on.
func (s *Service) scanFiles(ctx context.Context, c gh.Client, repo gh.Repo, files []gh.File, headRef, baseRef string, eng *secrets.Engine) (scanResult, error) {
	var res scanResult
	sc := scan.Scanner{Secrets: eng, Fingerprint: s.fp, Repo: repo.String()}
	src := ghContents{c: c, repo: repo, head: headRef, base: baseRef}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if f.Status == "removed" {
			continue
		}
		if policy.IsPolicyPath(repo.Name, f.Filename) {
			res.policyFiles = append(res.policyFiles, f.Filename)
		}
		sf := scan.File{Path: f.Filename, PreviousPath: f.PreviousFilename, Status: f.Status}
		if f.Patch != "" {
			added, removed, err := diff.ParsePatch(f.Patch)
			if err == nil {
				sf.Added, sf.Removed = added, removed
				found, err := sc.Scan(ctx, sf, src)
				if err != nil {
					return res, fmt.Errorf("scanning %s: %w", f.Filename, err)
				}
				res.findings = append(res.findings, found...)
				continue
			}
			s.logger(ctx).Warn().Err(err).Str("path", f.Filename).Msg("patch not parsed; scanning the file whole")
		} else if f.Changes == 0 && (f.Status == "renamed" || f.Status == "copied" || f.Status == "unchanged") {
			// Moved or copied as it was (a binary file's changes count 0 too, but a
			// modified one is "modified"): nothing added, and no call for it.
			continue
		}
		if err := s.scanWhole(ctx, c, sc, src, sf, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// scanWhole reads a file without a usable patch at head and scans it whole.
func (s *Service) scanWhole(ctx context.Context, c gh.Client, sc scan.Scanner, src ghContents, f scan.File, res *scanResult) error {
	ct, err := c.GetContent(ctx, src.repo, f.Path, src.head, "")
	switch {
	case isNotFound(err):
		res.unscanned = append(res.unscanned, notScanned{Path: f.Path, Why: "GitHub sent no diff for it and it was not found at the head commit"})
		return nil
	case errors.Is(err, gh.ErrTooLarge):
		res.unscanned = append(res.unscanned, notScanned{Path: f.Path, Why: fmt.Sprintf("GitHub sent no diff for it and it is over the %d MB escapegate reads whole", scan.MaxWholeBytes>>20)})
		return nil
	case err != nil:
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		s.logger(ctx).Warn().Err(err).Str("path", f.Path).Msg("file without a diff not read")
		res.unscanned = append(res.unscanned, notScanned{Path: f.Path, Why: "GitHub sent no diff for it and reading it failed: " + oneLineErr(err)})
		return nil
	case len(ct.Data) > scan.MaxWholeBytes:
		res.unscanned = append(res.unscanned, notScanned{Path: f.Path, Why: fmt.Sprintf("GitHub sent no diff for it and it is %s, over the %d MB escapegate reads whole",
			megabytes(len(ct.Data)), scan.MaxWholeBytes>>20)})
		return nil
	}
	out, err := sc.ScanWhole(ctx, f, ct.Data, src)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", f.Path, err)
	}
	res.findings = append(res.findings, out.Findings...)
	switch {
	case out.Media != "":
		res.notScanned = append(res.notScanned, notScanned{Path: f.Path, Why: out.Media})
	case out.Unscanned != "":
		res.unscanned = append(res.unscanned, notScanned{Path: f.Path, Why: out.Unscanned})
	}
	return nil
}

func megabytes(n int) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// oneLineErr is an error's text on one line, clipped.
func oneLineErr(err error) string {
	t := strings.Join(strings.Fields(err.Error()), " ")
	if len(t) > 200 {
		t = t[:200] + "…"
	}
	return t
}

// ghContents reads whole files for the scan step through the contents API.
type ghContents struct {
	c          gh.Client
	repo       gh.Repo
	head, base string
}

func (g ghContents) Head(ctx context.Context, path string) ([]byte, error) {
	return getContent(ctx, g.c, g.repo, path, g.head)
}

func (g ghContents) Base(ctx context.Context, path string) ([]byte, error) {
	if g.base == "" {
		return nil, nil
	}
	return getContent(ctx, g.c, g.repo, path, g.base)
}

type scanResult struct {
	findings    []checks.Finding
	notScanned  []notScanned // media: not scanned, not failing
	unscanned   []notScanned // could not be read or scanned: fails unless unscanned: neutral
	policyFiles []string
}

type notScanned struct{ Path, Why string }

// getContent returns nil content for a missing file.
func getContent(ctx context.Context, c gh.Client, repo gh.Repo, path, ref string) ([]byte, error) {
	ct, err := c.GetContent(ctx, repo, path, ref, "")
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	return ct.Data, nil
}
