package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/agents"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/output"
	"github.com/escapegate/escapegate/checks/scan"
	"github.com/escapegate/escapegate/checks/secrets"
)

// maxScanFileBytes skips larger plain files (build artefacts, data dumps) in path mode.
const maxScanFileBytes = 10 << 20

func runScan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("scan", flag.ContinueOnError)
	fset.SetOutput(stderr)
	diffPath := fset.String("diff", "", "a unified diff to scan (its added lines only); - reads standard input")
	format := fset.String("format", "text", "output format: text, json or sarif")
	failOn := fset.String("fail-on", "high", "lowest severity that makes the exit code 1")
	rulesFile := fset.String("rules", "", "extra rules in gitleaks' TOML format, added to the defaults")
	repo := fset.String("repo", "local", "repository name used in secret fingerprints")
	key := fset.String("fingerprint-key", os.Getenv("ESCAPEGATE_FINGERPRINT_KEY"), "HMAC key for fingerprints (default: $ESCAPEGATE_FINGERPRINT_KEY, else random per run)")
	allowInline := fset.Bool("allow-inline-suppressions", false, "let escapegate:allow / gitleaks:allow silence critical findings")
	dir := fset.String("dir", ".", "with --diff: the repository (or tree) the diff's paths are relative to")
	baseRef := fset.String("base", "", "with --diff in a git repository: the commit the diff is against, for agent configurations (default: the merge base of HEAD with the default branch)")
	headRef := fset.String("head", "", "with --diff in a git repository: the commit the diff leads to (default: the working tree)")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: escapegate scan [--diff FILE|-] [--format text|json|sarif] [PATH ...]\n\nExit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input.")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(stderr, "escapegate scan:", err); return 2 }
	// A CPU profile of the whole command, for benchmarking; an environment variable
	// rather than a flag keeps it out of --help.
	if p := os.Getenv("ESCAPEGATE_CPUPROFILE"); p != "" {
		stopProfile, err := startCPUProfile(p)
		if err != nil {
			return fail(err)
		}
		defer stopProfile()
	}
	min, err := checks.ParseSeverity(*failOn)
	if err != nil {
		return fail(err)
	}
	if *format != "text" && *format != "json" && *format != "sarif" {
		return fail(fmt.Errorf("unknown format %q (want text, json or sarif)", *format))
	}
	if (*diffPath == "") == (fset.NArg() == 0) {
		return fail(errors.New("give either --diff FILE (or - for standard input) or one or more paths"))
	}
	if *diffPath == "" && (*baseRef != "" || *headRef != "" || *dir != ".") {
		return fail(errors.New("--dir, --base and --head go with --diff"))
	}
	var extra []byte
	if *rulesFile != "" {
		if extra, err = os.ReadFile(*rulesFile); err != nil {
			return fail(err)
		}
	}
	// The live heap of a scan is small and bounded (the rules, the diff queue, one file
	// per worker: under 100 MB even with two 10 MB files read whole at once) while it
	// allocates the whole input once over: the collector waits for a memory limit rather
	// than for the heap to double, so most scans end before it runs at all (~11% less
	// CPU than collecting at twice the live heap) and memory stays bounded whatever the
	// input's size. GOGC or GOMEMLIMIT, when set, are the user's choice.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(scanMemoryLimit))
	}
	k := []byte(*key)
	if len(k) == 0 {
		k = make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return fail(err)
		}
	}
	// Compiling the rules takes a good part of a small scan: it runs while the diff is
	// read or the tree is listed, and the scan waits for it.
	ready := startEngine(secrets.Options{ExtraRulesTOML: extra}, func(eng *secrets.Engine) scan.Scanner {
		return scan.Scanner{Secrets: eng, Fingerprint: checks.NewFingerprinter(k), Repo: *repo}
	})
	var findings []checks.Finding
	if *diffPath != "" {
		src, err := openLocal(ctx, *dir, *baseRef, *headRef)
		if err != nil {
			return fail(err)
		}
		defer src.Close()
		var r io.Reader = stdin
		if *diffPath != "-" {
			f, err := os.Open(*diffPath)
			if err != nil {
				return fail(err)
			}
			defer f.Close()
			r = f
		}
		if findings, err = scanDiff(ctx, ready, r, src); err != nil {
			return fail(err)
		}
	} else {
		for _, p := range fset.Args() {
			got, err := scanTree(ctx, ready, p)
			if err != nil {
				return fail(err)
			}
			findings = append(findings, got...)
		}
	}
	s, err := ready()
	if err != nil {
		return fail(err)
	}
	eng := s.Secrets
	sort.SliceStable(findings, func(i, j int) bool {
		if findings[i].Path != findings[j].Path {
			return findings[i].Path < findings[j].Path
		}
		return findings[i].Line < findings[j].Line
	})
	switch *format {
	case "json":
		err = output.JSON(stdout, findings)
	case "sarif":
		err = output.SARIF(stdout, findings, append(eng.Rules(), agents.Rules()...), version)
	default:
		err = output.Text(stdout, findings)
	}
	if err != nil {
		return fail(err)
	}
	if len(verdict.FailingFindings(findings, verdict.Policy{FailOn: min, AllowInline: *allowInline})) > 0 {
		return 1
	}
	return 0
}

// startEngine compiles the rules on a goroutine of its own; the function it returns
// waits for them and gives the scanner built on them (the same one to every caller).
func startEngine(opts secrets.Options, scanner func(*secrets.Engine) scan.Scanner) func() (scan.Scanner, error) {
	var s scan.Scanner
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		var eng *secrets.Engine
		if eng, err = secrets.New(opts); err != nil {
			err = fmt.Errorf("rules: %w", err)
			return
		}
		s = scanner(eng)
	}()
	return func() (scan.Scanner, error) {
		<-done
		return s, err
	}
}

// scanDiff runs the scan step over every file of a unified diff. The diff is read as
// a stream, one file at a time, by one goroutine that hands the files to a pool of
// GOMAXPROCS workers through a short queue: only the files in flight are held, so
// memory stays flat whatever the diff's size. Findings come out in the diff's order;
// a diff that does not parse is an error even when files before the bad line were
// scanned, and otherwise the error is that of the first file that failed.
func scanDiff(ctx context.Context, ready func() (scan.Scanner, error), r io.Reader, src scan.Contents) ([]checks.Finding, error) {
	return scanDiffQueue(ctx, ready, r, src, queueBytes)
}

// scanDiffQueue is scanDiff with the reader's lead bounded by maxQueued bytes.
func scanDiffQueue(ctx context.Context, ready func() (scan.Scanner, error), r io.Reader, src scan.Contents, maxQueued int) ([]checks.Finding, error) {
	type job struct {
		i int
		f diff.File
	}
	workers := runtime.GOMAXPROCS(0)
	// The queue is bounded by the bytes it holds, not only by files: while the rules
	// compile, the reader runs ahead by up to queueBytes, and a huge file still waits.
	jobs := make(chan job, 4096)
	budget := newByteBudget(maxQueued)
	stop := make(chan struct{})
	var readErr error // written before jobs is closed
	go func() {
		defer close(jobs)
		d := diff.NewReader(r)
		for i := 0; ; i++ {
			f, err := d.Next()
			if err == io.EOF {
				return
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				readErr = fmt.Errorf("reading diff: %w", err)
				return
			}
			if !budget.acquire(fileBytes(f)) {
				return
			}
			select {
			case jobs <- job{i, f}:
			case <-stop:
				return
			}
		}
	}()
	s, err := ready()
	if err != nil {
		close(stop)
		budget.close()
		for range jobs {
		}
		return nil, err
	}
	var mu sync.Mutex
	results := map[int][]checks.Finding{}
	firstErr, errAt := error(nil), -1
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				f := j.f
				if f.Binary {
					budget.release(fileBytes(f))
					continue
				}
				out, err := s.Scan(ctx, scan.File{Path: f.Path, PreviousPath: f.OldPath, Status: f.Status, Added: f.Added, Removed: f.Removed}, src)
				budget.release(fileBytes(f))
				mu.Lock()
				if len(out) > 0 {
					results[j.i] = out
				}
				if err != nil && (errAt < 0 || j.i < errAt) {
					firstErr, errAt = err, j.i
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	idx := make([]int, 0, len(results))
	for i := range results {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var out []checks.Finding
	for _, i := range idx {
		out = append(out, results[i]...)
	}
	return out, nil
}

// scanMemoryLimit is the heap size at which a scan's garbage collector runs.
const scanMemoryLimit = 128 << 20

// queueBytes bounds what the diff reader holds ahead of the workers.
const queueBytes = 4 << 20

// fileBytes is about what a parsed file holds in memory: its lines and their text.
func fileBytes(f diff.File) int {
	n := 64 + len(f.Path) + len(f.OldPath)
	for _, l := range f.Added {
		n += 24 + len(l.Text)
	}
	for _, l := range f.Removed {
		n += 24 + len(l.Text)
	}
	return n
}

// byteBudget lets a producer hold at most max bytes at a time; one item larger than
// max is let through alone.
type byteBudget struct {
	mu     sync.Mutex
	cond   *sync.Cond
	used   int
	max    int
	closed bool
}

func newByteBudget(max int) *byteBudget {
	b := &byteBudget{max: max}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// acquire waits until n bytes fit (or nothing is held); false once closed.
func (b *byteBudget) acquire(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !b.closed && b.used > 0 && b.used+n > b.max {
		b.cond.Wait()
	}
	if b.closed {
		return false
	}
	b.used += n
	return true
}

func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.cond.Broadcast()
}

func (b *byteBudget) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cond.Broadcast()
}

// eachParallel runs fn(0..n-1) on up to GOMAXPROCS goroutines and concatenates the
// findings in index order (the output does not depend on scheduling); the error is
// that of the lowest index that failed.
func eachParallel(n int, fn func(i int) ([]checks.Finding, error)) ([]checks.Finding, error) {
	results := make([][]checks.Finding, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				results[i], errs[i] = fn(i)
			}
		}()
	}
	wg.Wait()
	var out []checks.Finding
	for i := range n {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	return out, nil
}

// scanTree scans the files under root whole: the walk lists them, a pool of workers
// reads and scans them, and findings come out in walk order.
func scanTree(ctx context.Context, ready func() (scan.Scanner, error), root string) ([]checks.Finding, error) {
	type job struct{ path, rel string }
	var jobs []job
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxScanFileBytes {
			return nil
		}
		rel := filepath.ToSlash(path)
		if r, err := filepath.Rel(root, path); err == nil && r != "." {
			rel = filepath.ToSlash(r) // paths as the repository names them: some rules depend on them
		}
		jobs = append(jobs, job{path, rel})
		return nil
	})
	if err != nil {
		return nil, err
	}
	s, err := ready()
	if err != nil {
		return nil, err
	}
	return eachParallel(len(jobs), func(i int) ([]checks.Finding, error) {
		content, err := os.ReadFile(jobs[i].path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", jobs[i].path, err)
		}
		if diff.IsBinary(content) {
			// Key containers are findings; media and archives hold nothing to scan here.
			out, err := s.ScanWhole(ctx, scan.File{Path: jobs[i].rel, Status: "added"}, content, scan.WholeContents(content))
			return out.Findings, err
		}
		return s.Scan(ctx, scan.Whole(jobs[i].rel, content), scan.WholeContents(content))
	})
}
