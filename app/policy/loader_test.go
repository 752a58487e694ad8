package policy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// fakeGitHub serves GetContent from files per "owner/name@ref" and records each call.
// The other gh.Client methods are not used by the Loader: calling one panics.
type fakeGitHub struct {
	gh.Client
	mu            sync.Mutex
	defaultBranch map[string]string            // owner/name → default branch
	files         map[string]map[string][]byte // owner/name@branch → path → content
	fail          error                        // when set, every call fails with it
	calls         []contentCall
}

type contentCall struct {
	repo, path, ref, etag string
	notModified, notFound bool
}

func newFakeGitHub() *fakeGitHub {
	return &fakeGitHub{defaultBranch: map[string]string{}, files: map[string]map[string][]byte{}}
}

func (f *fakeGitHub) put(repo, branch, path, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.defaultBranch[repo]; !ok {
		f.defaultBranch[repo] = branch
	}
	k := repo + "@" + branch
	if f.files[k] == nil {
		f.files[k] = map[string][]byte{}
	}
	f.files[k][path] = []byte(content)
}

func (f *fakeGitHub) GetContent(_ context.Context, r gh.Repo, path, ref, etag string) (gh.Content, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := contentCall{repo: r.String(), path: path, ref: ref, etag: etag}
	defer func() { f.calls = append(f.calls, call) }()
	if f.fail != nil {
		return gh.Content{}, f.fail
	}
	if ref == "" {
		ref = f.defaultBranch[r.String()]
	}
	data, ok := f.files[r.String()+"@"+ref][path]
	if !ok {
		call.notFound = true
		return gh.Content{}, fmt.Errorf("get content %s: %w", path, gh.ErrNotFound)
	}
	tag := fmt.Sprintf(`"%x"`, sha256.Sum256(data))
	if etag == tag {
		call.notModified = true
		return gh.Content{ETag: tag, NotModified: true}, nil
	}
	return gh.Content{Data: data, ETag: tag}, nil
}

func (f *fakeGitHub) takeCalls() []contentCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

// memStore keeps settings in memory; the Loader uses no other part of store.Store.
type memStore struct {
	store.Store
	mu     sync.Mutex
	kv     map[string][]byte
	writes int
}

func newMemStore() *memStore { return &memStore{kv: map[string][]byte{}} }

func (m *memStore) GetSetting(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.kv[key]
	if !ok {
		return nil, fmt.Errorf("setting %s: %w", key, store.ErrNotFound)
	}
	return v, nil
}

func (m *memStore) PutSetting(_ context.Context, key string, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kv[key] = append([]byte(nil), value...)
	m.writes++
	return nil
}

var widget = gh.Repo{Owner: "acme", Name: "widget"}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func TestLoaderOrgPolicyAppliesWithoutRepoFile(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/.github", "trunk", OrgFile, "fail_on: medium\noverride:\n  approvers:\n    teams: [security]\n")
	fg.put("acme/widget", "main", "README.md", "hello")
	l := NewLoader(newMemStore(), newClock().now)
	res, err := l.Load(context.Background(), fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy.FailOn != checks.SeverityMedium || res.Policy.Override.Approvers.Teams[0] != "security" {
		t.Errorf("policy %+v does not carry the org's", res.Policy)
	}
	if len(res.Errors)+len(res.Refusals)+len(res.Warnings) != 0 {
		t.Errorf("unexpected problems: %+v", res)
	}
	if len(res.Sources) != 1 || res.Sources[0] != "acme/.github:escapegate.yml" {
		t.Errorf("sources %v", res.Sources)
	}
	calls := fg.takeCalls()
	want := []contentCall{
		{repo: "acme/.github", path: OrgFile, ref: ""},
		{repo: "acme/widget", path: RepoFile, ref: "main", notFound: true},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls %+v\nwant  %+v", calls, want)
	}
}

func TestLoaderNoFilesAtAllIsDefaults(t *testing.T) {
	l := NewLoader(newMemStore(), newClock().now)
	res, err := l.Load(context.Background(), newFakeGitHub(), widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Policy) != fmt.Sprint(Default()) || res.Sources[0] != "built-in defaults" {
		t.Errorf("result %+v, want the defaults", res)
	}
}

func TestLoaderUnchangedPolicyCostsA304(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/.github", "main", OrgFile, "fail_on: medium\n")
	fg.put("acme/widget", "main", RepoFile, "fail_on: low\n")
	st := newMemStore()
	ctx := context.Background()
	l := NewLoader(st, newClock().now)
	first, err := l.Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	firstCalls := fg.takeCalls()
	writes := st.writes

	second, err := l.Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	calls := fg.takeCalls()
	if len(calls) != 2 {
		t.Fatalf("second load made %d calls, want 2", len(calls))
	}
	for i, c := range calls {
		if c.etag == "" || !c.notModified {
			t.Errorf("second load call %+v: want a conditional request answered 304", c)
		}
		if firstCalls[i].etag != "" {
			t.Errorf("first load sent an ETag: %+v", firstCalls[i])
		}
	}
	if st.writes != writes {
		t.Errorf("a 304 wrote to the store (%d writes, had %d)", st.writes, writes)
	}
	if second.Policy.FailOn != checks.SeverityLow || fmt.Sprint(second) != fmt.Sprint(first) {
		t.Errorf("second result %+v differs from first %+v", second, first)
	}

	// A restarted server (a new Loader on the same store) still asks conditionally.
	restarted := NewLoader(st, newClock().now)
	third, err := restarted.Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range fg.takeCalls() {
		if !c.notModified {
			t.Errorf("after a restart: %+v, want a 304", c)
		}
	}
	if third.Policy.FailOn != checks.SeverityLow {
		t.Errorf("after a restart fail_on %s, want low", third.Policy.FailOn)
	}

	// A changed file is read again.
	fg.put("acme/widget", "main", RepoFile, "fail_on: medium\n")
	fourth, err := l.Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if fourth.Policy.FailOn != checks.SeverityMedium {
		t.Errorf("changed file not read: fail_on %s", fourth.Policy.FailOn)
	}
}

func TestLoaderBrokenFileKeepsLastValid(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/.github", "main", OrgFile, "fail_on: high\n")
	fg.put("acme/widget", "main", RepoFile, "fail_on: low\n")
	ctx := context.Background()
	clk := newClock()
	l := NewLoader(newMemStore(), clk.now)
	if _, err := l.Load(ctx, fg, widget, "main"); err != nil {
		t.Fatal(err)
	}

	clk.t = clk.t.Add(time.Hour)
	fg.put("acme/widget", "main", RepoFile, "fail_on: low\noverride:\n  lable: x\n")
	for i := 0; i < 2; i++ { // the second time answered by a 304
		res, err := l.Load(ctx, fg, widget, "main")
		if err != nil {
			t.Fatal(err)
		}
		if res.Policy.FailOn != checks.SeverityLow {
			t.Errorf("load %d: fail_on %s, want the last valid file's low", i, res.Policy.FailOn)
		}
		if len(res.Errors) != 1 || res.Errors[0].Line != 3 || !strings.Contains(res.Errors[0].Error(), "unknown key `override.lable`") {
			t.Errorf("load %d: errors %v, want line 3 unknown key", i, res.Errors)
		}
		if len(res.Sources) != 2 || !strings.Contains(res.Sources[1], "last valid version, read 2026-03-01T12:00:00Z") {
			t.Errorf("load %d: sources %v", i, res.Sources)
		}
	}

	fg.put("acme/widget", "main", RepoFile, "fail_on: medium\n")
	res, err := l.Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 || res.Policy.FailOn != checks.SeverityMedium {
		t.Errorf("fixed file: %+v", res)
	}
}

func TestLoaderBrokenFileWithoutHistory(t *testing.T) {
	tests := []struct {
		name     string
		org      string
		repo     string
		wantFail checks.Severity
		wantLine int
	}{
		{"broken repo file: org policy applies", "fail_on: medium\n", "fail_on: [x]\n", checks.SeverityMedium, 1},
		{"broken org file: strict defaults apply", "allow_repo_overrides: true\nfail_on: lowest\n", "fail_on: critical\n", checks.SeverityHigh, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fg := newFakeGitHub()
			fg.put("acme/.github", "main", OrgFile, tt.org)
			fg.put("acme/widget", "main", RepoFile, tt.repo)
			res, err := NewLoader(newMemStore(), newClock().now).Load(context.Background(), fg, widget, "main")
			if err != nil {
				t.Fatal(err)
			}
			if res.Policy.FailOn != tt.wantFail {
				t.Errorf("fail_on %s, want %s", res.Policy.FailOn, tt.wantFail)
			}
			if len(res.Errors) != 1 || res.Errors[0].Line != tt.wantLine {
				t.Errorf("errors %v, want one on line %d", res.Errors, tt.wantLine)
			}
		})
	}
}

func TestLoaderTighteningAndLoosening(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/.github", "main", OrgFile, "fail_on: high\noverride:\n  approvers:\n    teams: [security]\n")
	fg.put("acme/widget", "main", RepoFile, "fail_on: medium\noverride:\n  approvers:\n    teams: [widget-devs]\n")
	res, err := NewLoader(newMemStore(), newClock().now).Load(context.Background(), fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy.FailOn != checks.SeverityMedium {
		t.Errorf("tightening fail_on not honoured: %s", res.Policy.FailOn)
	}
	if got := res.Policy.Override.Approvers.Teams; len(got) != 1 || got[0] != "security" {
		t.Errorf("approvers %v, want the org's", got)
	}
	want := "`.github/escapegate.yml` line 4: `override.approvers.teams` is set by the org policy; a repository may only tighten it"
	if len(res.Refusals) != 1 || !strings.HasPrefix(res.Refusals[0].String(), want) {
		t.Errorf("refusals %v, want %q", res.Refusals, want)
	}
}

func TestLoaderReadsTheDefaultBranchOnly(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/widget", "main", RepoFile, "fail_on: high\n")
	fg.put("acme/widget", "pr-head", RepoFile, "fail_on: critical\nsecrets:\n  allow_inline_suppressions: true\n")
	res, err := NewLoader(newMemStore(), newClock().now).Load(context.Background(), fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	if res.Policy.FailOn != checks.SeverityHigh || res.Policy.Secrets.AllowInlineSuppressions {
		t.Errorf("policy came from somewhere else than main: %+v", res.Policy)
	}
	for _, c := range fg.takeCalls() {
		if c.repo == "acme/widget" && c.ref != "main" {
			t.Errorf("repo file read at %q", c.ref)
		}
	}
}

func TestLoaderGitHubFailure(t *testing.T) {
	ctx := context.Background()
	down := errors.New("github: 502 bad gateway")

	t.Run("no cache: the error is returned", func(t *testing.T) {
		fg := newFakeGitHub()
		fg.fail = down
		_, err := NewLoader(newMemStore(), newClock().now).Load(ctx, fg, widget, "main")
		if !errors.Is(err, down) {
			t.Errorf("err = %v, want the GitHub error", err)
		}
	})

	t.Run("cached copy applies with a warning", func(t *testing.T) {
		fg := newFakeGitHub()
		fg.put("acme/.github", "main", OrgFile, "fail_on: low\n")
		l := NewLoader(newMemStore(), newClock().now)
		if _, err := l.Load(ctx, fg, widget, "main"); err != nil {
			t.Fatal(err)
		}
		fg.fail = down
		res, err := l.Load(ctx, fg, widget, "main")
		if err != nil {
			t.Fatal(err)
		}
		if res.Policy.FailOn != checks.SeverityLow {
			t.Errorf("fail_on %s, want the cached org's low", res.Policy.FailOn)
		}
		if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "acme/.github:escapegate.yml could not be read from GitHub") {
			t.Errorf("warnings %v", res.Warnings)
		}
	})
}

func TestLoaderTTLAndInvalidate(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/widget", "main", RepoFile, "fail_on: low\n")
	clk := newClock()
	ctx := context.Background()
	l := NewLoader(newMemStore(), clk.now, WithTTL(5*time.Minute))
	load := func() Result {
		t.Helper()
		res, err := l.Load(ctx, fg, widget, "main")
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	load()
	fg.takeCalls()

	clk.t = clk.t.Add(4 * time.Minute)
	load()
	if n := len(fg.takeCalls()); n != 0 {
		t.Errorf("within the TTL: %d calls, want 0", n)
	}

	clk.t = clk.t.Add(2 * time.Minute)
	load()
	calls := fg.takeCalls()
	if len(calls) != 2 || !calls[1].notModified {
		t.Errorf("after the TTL: calls %+v, want a 304 for the repo file", calls)
	}

	fg.put("acme/widget", "main", RepoFile, "fail_on: medium\n")
	l.Invalidate(widget)
	res := load()
	if calls := fg.takeCalls(); len(calls) != 1 || calls[0].path != RepoFile {
		t.Errorf("after Invalidate: calls %+v, want the repo file alone", calls)
	}
	if res.Policy.FailOn != checks.SeverityMedium {
		t.Errorf("after Invalidate fail_on %s, want medium", res.Policy.FailOn)
	}
}

func TestLoaderEmptyFileIsConditionalToo(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/widget", "main", RepoFile, "")
	st := newMemStore()
	ctx := context.Background()
	if _, err := NewLoader(st, newClock().now).Load(ctx, fg, widget, "main"); err != nil {
		t.Fatal(err)
	}
	fg.takeCalls()
	res, err := NewLoader(st, newClock().now).Load(ctx, fg, widget, "main")
	if err != nil {
		t.Fatal(err)
	}
	calls := fg.takeCalls()
	if len(calls) != 2 || !calls[1].notModified {
		t.Errorf("calls %+v, want the empty repo file answered 304", calls)
	}
	if len(res.Errors) != 0 || res.Policy.FailOn != checks.SeverityHigh {
		t.Errorf("result %+v", res)
	}
}

// TestLoaderConcurrentLoadsShareOneRead: events arriving together for a repository whose
// policy is not in memory (after a start, or once the TTL ended) send one read per file,
// not one each.
func TestLoaderConcurrentLoadsShareOneRead(t *testing.T) {
	fg := newFakeGitHub()
	fg.put("acme/widget", "main", RepoFile, "fail_on: low\n")
	l := NewLoader(newMemStore(), newClock().now, WithTTL(5*time.Minute))
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := l.Load(context.Background(), fg, widget, "main")
			if err != nil || res.Policy.FailOn != checks.SeverityLow {
				t.Errorf("Load = %v, %v", res.Policy.FailOn, err)
			}
		}()
	}
	wg.Wait()
	calls := fg.takeCalls()
	if len(calls) != 2 {
		t.Errorf("16 concurrent loads sent %d reads, want 2 (the org file and the repo file): %+v", len(calls), calls)
	}
}
