// Command scanbench runs escapegate's secret engine over a corpus made by
// ../shared/bench/gen_diffs.py (CORPUS/diffs/*.patch, CORPUS/truth.jsonl) and prints
// one JSON line: throughput over the added lines, peak memory, findings and the
// injected secrets found. It does not depend on the escapegate CLI.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/secrets"
)

type result struct {
	Tool              string   `json:"tool"`
	AddedMB           float64  `json:"added_MB"`       // the corpus' added/ tree, the bytes gitleaks scans
	AddedLinesMB      float64  `json:"added_lines_MB"` // the added lines' own bytes
	WallS             float64  `json:"wall_s"`         // load rules, read, parse and scan
	ScanS             float64  `json:"scan_s"`         // scanning only (sum over workers / workers)
	MBPerS            float64  `json:"MB_per_s"`       // AddedMB / WallS, comparable with the gitleaks baseline
	PeakRSSMB         int      `json:"peak_rss_MB"`
	Workers           int      `json:"workers"`
	Findings          int      `json:"findings"`
	Injected          int      `json:"injected"`
	InjectedFound     int      `json:"injected_found"`
	GitleaksFound     int      `json:"gitleaks_injected_found,omitempty"`
	MissedThatGLFound []string `json:"missed_that_gitleaks_found,omitempty"`
}

type truthRow struct {
	Patch  string `json:"patch"`
	Path   string `json:"path"`
	Line   int    `json:"line"`
	RuleID string `json:"rule_id"`
}

func main() {
	corpus := flag.String("corpus", "", "corpus directory made by gen_diffs.py")
	glReport := flag.String("gitleaks-report", "", "gitleaks JSON report over CORPUS/added, to list injected secrets gitleaks found and we did not")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "files scanned in parallel")
	addedMB := flag.Float64("added-mb", 0, "size of CORPUS/added in MB when already known (else it is measured)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scanbench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "scanbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *corpus == "" {
		fmt.Fprintln(os.Stderr, "usage: scanbench -corpus DIR [-gitleaks-report FILE]")
		os.Exit(2)
	}
	res, err := run(*corpus, *glReport, *workers, *addedMB)
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "scanbench:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

func run(corpus, glReport string, workers int, addedMB float64) (*result, error) {
	start := time.Now()
	eng, err := secrets.New(secrets.Options{})
	if err != nil {
		return nil, fmt.Errorf("compiling rules: %w", err)
	}
	patches, err := filepath.Glob(filepath.Join(corpus, "diffs", "*.patch"))
	if err != nil || len(patches) == 0 {
		return nil, fmt.Errorf("no patches under %s/diffs", corpus)
	}
	fp := checks.NewFingerprinter([]byte("scanbench"))
	type found struct {
		patch, path string
		line        int
	}
	var (
		mu        sync.Mutex
		hits      = map[found]bool{}
		nFindings int
		scanNanos atomic.Int64
		lineBytes atomic.Int64
		wg        sync.WaitGroup
		errs      = make(chan error, len(patches))
		queue     = make(chan string, len(patches))
	)
	for _, p := range patches {
		queue <- p
	}
	close(queue)
	// Each worker reads, parses and scans whole patches.
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range queue {
				f, err := os.Open(p)
				if err != nil {
					errs <- err
					return
				}
				files, err := diff.Parse(f) // lines over diff.MaxLineBytes are cut
				f.Close()
				if err != nil {
					errs <- fmt.Errorf("%s: %w", p, err)
					return
				}
				for _, file := range files {
					t := time.Now()
					fs := eng.ScanFile(fp, "bench/corpus", file.Path, file.Added, file.Removed)
					scanNanos.Add(int64(time.Since(t)))
					var n int64
					for _, l := range file.Added {
						n += int64(len(l.Text) + 1)
					}
					lineBytes.Add(n)
					mu.Lock()
					nFindings += len(fs)
					for _, f := range fs {
						for l := f.Line; l <= max(f.Line, f.EndLine); l++ {
							hits[found{filepath.Base(p), f.Path, l}] = true
						}
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	wall := time.Since(start).Seconds()

	truth, err := readTruth(filepath.Join(corpus, "truth.jsonl"))
	if err != nil {
		return nil, err
	}
	res := &result{
		Tool: "escapegate-secrets", WallS: round(wall, 2), Workers: workers, Findings: nFindings,
		ScanS: round(float64(scanNanos.Load())/1e9/float64(workers), 2), Injected: len(truth),
		AddedLinesMB: round(float64(lineBytes.Load())/(1<<20), 1), PeakRSSMB: peakRSSMB(),
	}
	added := int64(addedMB * (1 << 20))
	if added == 0 {
		added = dirSize(filepath.Join(corpus, "added"))
	}
	if added == 0 {
		added = lineBytes.Load()
	}
	res.AddedMB = round(float64(added)/(1<<20), 1)
	res.MBPerS = round(float64(added)/(1<<20)/wall, 1)
	var glFound map[string]bool
	if glReport != "" {
		if glFound, err = readGitleaksReport(glReport, filepath.Join(corpus, "added")); err != nil {
			return nil, err
		}
	}
	for _, r := range truth {
		ok := hits[found{r.Patch, r.Path, r.Line}]
		if ok {
			res.InjectedFound++
		}
		key := strings.TrimSuffix(r.Patch, ".patch") + "/" + r.Path + ":" + strconv.Itoa(r.Line)
		if glFound[key] {
			res.GitleaksFound++
			if !ok {
				res.MissedThatGLFound = append(res.MissedThatGLFound, key+" "+r.RuleID)
			}
		}
	}
	sort.Strings(res.MissedThatGLFound)
	return res, nil
}

func readTruth(path string) ([]truthRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening truth: %w", err)
	}
	defer f.Close()
	var rows []truthRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r truthRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("truth: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// readGitleaksReport returns "prNNN/path:line" for every finding's start line.
func readGitleaksReport(path, addedDir string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading gitleaks report: %w", err)
	}
	var rows []struct {
		File      string
		StartLine int
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("decoding gitleaks report: %w", err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		rel, err := filepath.Rel(addedDir, r.File)
		if err != nil {
			rel = r.File
		}
		out[filepath.ToSlash(rel)+":"+strconv.Itoa(r.StartLine)] = true
	}
	return out, nil
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// peakRSSMB reads the process' high-water resident set size (Linux).
func peakRSSMB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb / 1024
		}
	}
	return 0
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
