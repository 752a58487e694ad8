// Command dashboard times the dashboard's pages as a user gets them from `escapegate
// serve`, a separate process: it seeds a bbolt store with a synthetic org (2,000
// repositories and 100k caught findings by default), starts a fake GitHub (OAuth sign-in,
// team membership), starts serve on the store, signs in as an approver, and fetches each
// page n times over HTTP, printing the median, p95 and max wall-clock time per page.
// With -keep it then waits (Ctrl-C ends it), printing a curl command line with the
// session cookie, so that the pages can be fetched by hand.
//
//	go build -o /tmp/escapegate ./cmd/escapegate
//	go run ./bench/dashboard -bin /tmp/escapegate -n 50
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store/bolt"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dashboard", flag.ContinueOnError)
	bin := fs.String("bin", "", "the escapegate binary (go build -o /tmp/escapegate ./cmd/escapegate)")
	repos := fs.Int("repos", 2000, "repositories of the synthetic org")
	caught := fs.Int("caught", 50, "caught findings per repository (half critical)")
	n := fs.Int("n", 30, "fetches of each page")
	keep := fs.Bool("keep", false, "keep serve running after the timings, until interrupted")
	if err := fs.Parse(args); err != nil || *bin == "" {
		fmt.Fprintln(stderr, "usage: dashboard -bin /tmp/escapegate [-repos 2000 -caught 50 -n 30 -keep]")
		return 2
	}
	if err := bench(*bin, *repos, *caught, *n, *keep, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "dashboard:", err)
		return 1
	}
	return 0
}

const (
	clientID, clientSecret = "Iv1.bench", "bench-oauth-secret"
	webhookSecret          = "bench-webhook-secret"
)

func bench(bin string, repos, caught, n int, keep bool, stdout, stderr io.Writer) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "escapegate-dashboard-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "escapegate.db")
	end := time.Now().UTC()
	shape := escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: repos, CaughtPerRepo: caught, EscapeEvery: 10, MissedPerRepo: 2,
		Span: 365 * 24 * time.Hour, End: end}
	t0 := time.Now()
	st, err := bolt.Open(db, bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err == nil {
		err = escaperatetest.SeedOrg(ctx, st, shape)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	fmt.Fprintf(stdout, "seeded %d repositories, %d caught findings in %s\n", repos, repos*caught, time.Since(t0).Round(time.Millisecond))

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/.github", "main")
	f.AddInstallation(1, "acme/.github")
	f.SetOAuthClient(clientID, clientSecret)
	f.AddTeamMember("acme", "security", "sec-lead", "active")
	f.SetWebUser("sec-lead")

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	keyPath := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		return err
	}
	web := strings.TrimRight(f.URL(), "/")
	cfg := fmt.Sprintf("listen: %s\npublic_url: http://%s\ngithub:\n  web_url: %s\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: %s\n"+
		"  oauth:\n    client_id: %s\n    client_secret: %s\nstore: %q\nlog_level: warn\nrecovery: {interval: 0s, installations_interval: 0s, expiry_interval: 0s}\n"+
		"ui:\n  teams: security\n  refresh: 1h\n",
		addr, addr, web, f.URL(), keyPath, webhookSecret, clientID, clientSecret, "bolt:"+db)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting serve: %w", err)
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	base := "http://" + addr
	if err := waitReady(base, 30*time.Second); err != nil {
		return err
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	t0 = time.Now()
	if st, err := fetch(c, base+"/ui/auth/start?next="+url.QueryEscape("/ui/org/acme")); err != nil || st != http.StatusOK {
		return fmt.Errorf("sign-in and first org page: %d %v", st, err)
	}
	fmt.Fprintf(stdout, "sign-in and the first org page (computes the org's figures): %s\n", time.Since(t0).Round(time.Millisecond))
	pages := []string{"/ui/org/acme", "/ui/org/acme?sort=rate&desc=1&page=5", "/ui/repo/acme/repo-0042", "/ui/org/acme/ops", "/ui/org/acme/export/repos?format=csv"}
	fmt.Fprintf(stdout, "%-45s %8s %8s %8s\n", "page", "median", "p95", "max")
	for _, p := range pages {
		var ds []time.Duration
		for range n {
			t := time.Now()
			st, err := fetch(c, base+p)
			if err != nil || st != http.StatusOK {
				return fmt.Errorf("%s: %d %v", p, st, err)
			}
			ds = append(ds, time.Since(t))
		}
		slices.Sort(ds)
		fmt.Fprintf(stdout, "%-45s %8s %8s %8s\n", p, ms(ds[len(ds)/2]), ms(ds[(len(ds)*95+99)/100-1]), ms(ds[len(ds)-1]))
	}
	if keep {
		u, _ := url.Parse(base + "/ui/")
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "escapegate_session" {
				fmt.Fprintf(stdout, "\ncurl -s -o /dev/null -w '%%{time_total}\\n' -b 'escapegate_session=%s' %s/ui/org/acme\n", ck.Value, base)
			}
		}
		fmt.Fprintln(stdout, "serve is running; Ctrl-C ends it")
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func fetch(c *http.Client, u string) (int, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("serve did not become healthy")
}
