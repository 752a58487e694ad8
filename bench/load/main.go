// Command load is the webhook load generator: it starts a fake GitHub with pull requests
// of realistic shape (1 to 100 files, some adding secrets or agent configurations),
// starts `escapegate serve` as a process against it (or targets a running one), sends
// signed pull_request events at a set rate or as fast as the concurrency allows, and
// reports events per second, delivery-to-check-completed latency, GitHub API calls per
// event by endpoint, serve's peak RSS and the 503s it answered.
//
//	go build -o /tmp/escapegate ./cmd/escapegate
//	go run ./bench/load -bin /tmp/escapegate -events 1000 -concurrency 32
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	bin         string
	events      int
	concurrency int
	rate        float64
	maxFiles    int
	meanFiles   int
	store       string
	timeout     time.Duration
	format      string
	seed        uint64
	cpuProfile  string
	files       int
	workers     int
	queueSize   int
	wait        bool
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "bin", "", "the escapegate binary to run as `serve` (required)")
	fs.IntVar(&o.events, "events", 1000, "pull_request events to send")
	fs.IntVar(&o.concurrency, "concurrency", 32, "deliveries in flight at once (1: one event at a time, latency)")
	fs.Float64Var(&o.rate, "rate", 0, "events per second to send at (0: as fast as the concurrency allows)")
	fs.IntVar(&o.maxFiles, "max-files", 100, "most files in one pull request")
	fs.IntVar(&o.meanFiles, "mean-files", 20, "mean files per pull request")
	fs.StringVar(&o.store, "store", "", "serve's store (default a fresh durable bbolt file); a postgres:// URL for replicas' setup")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up waiting for check runs after this")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the pull requests' shapes")
	fs.IntVar(&o.files, "files", 0, "files in every pull request (0: 1 to -max-files around -mean-files); 3000 is GitHub's most")
	fs.IntVar(&o.workers, "workers", 0, "serve's queue.workers (0: serve's default)")
	fs.IntVar(&o.queueSize, "queue-size", 0, "serve's queue.size (0: serve's default)")
	fs.BoolVar(&o.wait, "wait", false, "each sender waits for its event's check run before sending the next (with -concurrency 1: one event at a time end to end)")
	fs.StringVar(&o.cpuProfile, "cpu-profile", "", "have serve write a CPU profile of its run to this `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.bin == "" || o.events <= 0 || o.concurrency <= 0 {
		fmt.Fprintln(stderr, "load: -bin is required; -events and -concurrency must be positive")
		return 2
	}
	res, err := measure(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "load:", err)
		return 1
	}
	if o.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		res.print(stdout)
	}
	if res.Completed < res.Acknowledged {
		fmt.Fprintf(stderr, "load: %d acknowledged events never got a completed check run\n", res.Acknowledged-res.Completed)
		return 1
	}
	return 0
}

// Result is what one run measured.
type Result struct {
	Events         int            `json:"events"`
	Concurrency    int            `json:"concurrency"`
	Acknowledged   int            `json:"acknowledged"`
	Refused503     int            `json:"refused_503"`
	OtherErrors    int            `json:"other_errors"`
	Completed      int            `json:"completed"`
	Seconds        float64        `json:"seconds"`
	SendSeconds    float64        `json:"send_seconds"`
	EventsPerSec   float64        `json:"events_per_s"`
	P50ms          float64        `json:"p50_ms"`
	P95ms          float64        `json:"p95_ms"`
	P99ms          float64        `json:"p99_ms"`
	APICallsPerEvt float64        `json:"api_calls_per_event"`
	CallsByRoute   map[string]int `json:"calls_by_endpoint"`
	PeakRSSMB      float64        `json:"serve_peak_rss_mb"`
	MeanFiles      float64        `json:"mean_files_per_pr"`
}

func (r Result) print(w io.Writer) {
	fmt.Fprintf(w, "events %d (concurrency %d): acknowledged %d, 503 %d, other errors %d, check runs completed %d\n",
		r.Events, r.Concurrency, r.Acknowledged, r.Refused503, r.OtherErrors, r.Completed)
	fmt.Fprintf(w, "throughput %.0f PR events/s over %.2f s (all sent and answered in %.2f s); mean %.1f files per PR\n", r.EventsPerSec, r.Seconds, r.SendSeconds, r.MeanFiles)
	fmt.Fprintf(w, "delivery -> check completed: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms\n", r.P50ms, r.P95ms, r.P99ms)
	fmt.Fprintf(w, "GitHub API calls per event: %.2f\n", r.APICallsPerEvt)
	routes := make([]string, 0, len(r.CallsByRoute))
	for k := range r.CallsByRoute {
		routes = append(routes, k)
	}
	sort.Strings(routes)
	for _, k := range routes {
		fmt.Fprintf(w, "  %-60s %8d  (%.2f per event)\n", k, r.CallsByRoute[k], float64(r.CallsByRoute[k])/math.Max(1, float64(r.Acknowledged)))
	}
	fmt.Fprintf(w, "serve peak RSS %.0f MB\n", r.PeakRSSMB)
}

const (
	repoName = "acme/app"
	instID   = 7
	secret   = "load-webhook-secret"
)

type prShape struct {
	number int
	head   string
	files  int
}

func measure(o options, log io.Writer) (Result, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Result{}, err
	}
	dir, err := os.MkdirTemp("", "escapegate-load-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)

	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo(repoName, "main")
	f.AddRepo("acme/.github", "main")
	f.AddInstallation(instID, repoName, "acme/.github")
	prs := shapes(f, o)

	completed := map[string]time.Time{}
	waiting := map[string]chan struct{}{} // -wait: closed when the head's run completes
	var cmu sync.Mutex
	f.OnCheckRunCompleted(func(_, head, _ string) {
		cmu.Lock()
		if _, ok := completed[head]; !ok {
			completed[head] = time.Now()
			if ch, ok := waiting[head]; ok {
				close(ch)
			}
		}
		cmu.Unlock()
	})

	addr, err := freeAddr()
	if err != nil {
		return Result{}, err
	}
	st := o.store
	if st == "" {
		st = "bolt:" + filepath.Join(dir, "escapegate.db")
	}
	keyPath := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return Result{}, err
	}
	cfg := fmt.Sprintf("listen: %s\ngithub:\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: %s\nstore: %q\nlog_level: warn\n"+
		"recovery: {interval: 0s, installations_interval: 0s, expiry_interval: 0s}\n",
		addr, f.URL(), keyPath, secret, st)
	var queue []string
	if o.workers > 0 {
		queue = append(queue, fmt.Sprintf("workers: %d", o.workers))
	}
	if o.queueSize > 0 {
		queue = append(queue, fmt.Sprintf("size: %d", o.queueSize))
	}
	if len(queue) > 0 {
		cfg += "queue: {" + strings.Join(queue, ", ") + "}\n"
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return Result{}, err
	}
	args := []string{"serve", "--config", cfgPath}
	if o.cpuProfile != "" {
		args = append(args, "--cpu-profile", o.cpuProfile)
	}
	cmd := exec.Command(o.bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting serve: %w", err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	if err := waitReady(addr, 20*time.Second); err != nil {
		return Result{}, err
	}
	f.ResetRequests() // the installation token and readiness are not the events' cost

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2}, Timeout: 30 * time.Second}
	repo := events.Repo{ID: 1, FullName: repoName, DefaultBranch: "main"}
	sent := make([]time.Time, len(prs))
	var acked, refused, other atomic.Int64
	ackedHeads := make([]bool, len(prs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				p := prs[i]
				payload := events.PullRequest(instID, repo, "opened", events.PR{Number: p.number, Author: "alice", HeadSHA: p.head, HeadRef: fmt.Sprintf("f/%d", p.number), BaseRef: "main", BaseSHA: strings.Repeat("0", 40)}, "alice")
				req, err := fakegithub.NewWebhookRequest(context.Background(), "http://"+addr, []byte(secret), "pull_request", fmt.Sprintf("load-%d", i), payload)
				if err != nil {
					other.Add(1)
					continue
				}
				var done chan struct{}
				if o.wait {
					done = make(chan struct{})
					cmu.Lock()
					waiting[p.head] = done
					cmu.Unlock()
				}
				sent[i] = time.Now()
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusOK:
					acked.Add(1)
					ackedHeads[i] = true
					if done != nil {
						select {
						case <-done:
						case <-time.After(o.timeout):
						}
					}
				case resp.StatusCode == http.StatusServiceUnavailable:
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	var tick *time.Ticker
	if o.rate > 0 {
		tick = time.NewTicker(time.Duration(float64(time.Second) / o.rate))
		defer tick.Stop()
	}
	for i := range prs {
		if tick != nil {
			<-tick.C
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	sendSeconds := time.Since(start).Seconds()

	deadline := time.Now().Add(o.timeout)
	want := int(acked.Load())
	for {
		cmu.Lock()
		n := 0
		for i, p := range prs {
			if _, ok := completed[p.head]; ok && ackedHeads[i] {
				n++
			}
		}
		cmu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	res := Result{SendSeconds: sendSeconds, Events: o.events, Concurrency: o.concurrency, Acknowledged: want, Refused503: int(refused.Load()), OtherErrors: int(other.Load()), CallsByRoute: map[string]int{}}
	var lat []time.Duration
	var last time.Time
	files := 0
	cmu.Lock()
	for i, p := range prs {
		files += p.files
		at, ok := completed[p.head]
		if !ok || !ackedHeads[i] {
			continue
		}
		res.Completed++
		lat = append(lat, at.Sub(sent[i]))
		if at.After(last) {
			last = at
		}
	}
	cmu.Unlock()
	res.MeanFiles = float64(files) / float64(len(prs))
	res.Seconds = last.Sub(start).Seconds()
	if res.Seconds > 0 {
		res.EventsPerSec = float64(res.Completed) / res.Seconds
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	res.P50ms, res.P95ms, res.P99ms = pct(0.50), pct(0.95), pct(0.99)
	calls := 0
	for ep, n := range f.CallsByEndpoint() {
		res.CallsByRoute[ep] = n
		calls += n
	}
	if res.Acknowledged > 0 {
		res.APICallsPerEvt = float64(calls) / float64(res.Acknowledged)
	}
	res.PeakRSSMB = peakRSS(cmd.Process.Pid)
	return res, nil
}

// shapes registers the pull requests on the fake GitHub: file counts from a geometric-like
// distribution around the mean, capped; one in ten adds a secret, one in twenty an agent
// configuration.
func shapes(f *fakegithub.Server, o options) []prShape {
	rng := mrand.New(mrand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))
	prs := make([]prShape, o.events)
	for i := range prs {
		n := 1 + int(rng.ExpFloat64()*float64(o.meanFiles-1))
		n = min(max(n, 1), o.maxFiles)
		if o.files > 0 {
			n = o.files
		}
		p := prShape{number: i + 1, head: fmt.Sprintf("%040x", i+1), files: n}
		var files []fakegithub.PullFile
		for k := range n {
			files = append(files, file(rng, i, k))
		}
		if rng.IntN(10) == 0 {
			files[0].Patch += "\n+GITHUB_TOKEN=" + fakecreds.FakeGitHubPAT()
		}
		if rng.IntN(20) == 0 {
			path := ".claude/settings.json"
			body := "{\n  \"permissions\": {\n    \"allow\": [\"Bash(npm test:*)\", \"Read(**)\"]\n  }\n}\n"
			files = append(files, fakegithub.PullFile{Filename: path, Status: "added", Additions: 5, Patch: "@@ -0,0 +1,5 @@\n+" + strings.ReplaceAll(strings.TrimSuffix(body, "\n"), "\n", "\n+")})
			f.SetFile(repoName, p.head, path, []byte(body))
			p.files++
		}
		f.AddPull(repoName, fakegithub.Pull{Number: p.number, Author: "alice", HeadSHA: p.head, HeadRef: fmt.Sprintf("f/%d", p.number), BaseSHA: strings.Repeat("0", 40), BaseRef: "main", Files: files})
		prs[i] = p
	}
	return prs
}

var exts = []string{"go", "py", "ts", "yaml", "md", "json", "tf", "sh"}

// file is one modified file: a hunk of 5 to 40 lines, half of them added.
func file(rng *mrand.Rand, pr, k int) fakegithub.PullFile {
	ext := exts[rng.IntN(len(exts))]
	lines := 5 + rng.IntN(36)
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -10,%d +10,%d @@", lines, lines+lines/2)
	for j := range lines {
		fmt.Fprintf(&b, "\n value_%d_%d := compute(%d, %q)", pr, j, j, ext)
		if j%2 == 0 {
			fmt.Fprintf(&b, "\n+result_%d_%d = transform(input[%d], options.level)", pr, j, j)
		}
	}
	return fakegithub.PullFile{Filename: fmt.Sprintf("src/pkg%d/file%d.%s", k%7, k, ext), Status: "modified", Additions: lines / 2, Patch: b.String()}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(addr string, limit time.Duration) error {
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("serve did not become ready")
}

// peakRSS reads a process's peak resident set (VmHWM) in MB; 0 where /proc has none.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}
