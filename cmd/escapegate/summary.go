package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/app/seal"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
)

func runSummary(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "server configuration file (the same as serve's)")
	org := fs.String("org", "", "the organization (installation account)")
	monthFlag := fs.String("month", "", "the month, YYYY-MM (default: the previous month)")
	dryRun := fs.Bool("dry-run", false, "render the issue without posting it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *org == "" {
		fmt.Fprintln(stderr, "escapegate summary: --org ORG is required")
		return 2
	}
	month := time.Now().UTC().AddDate(0, -1, 0)
	if *monthFlag != "" {
		m, err := time.Parse("2006-01", *monthFlag)
		if err != nil {
			fmt.Fprintf(stderr, "escapegate summary: --month %q: want YYYY-MM\n", *monthFlag)
			return 2
		}
		month = m
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 2
	}
	// Rendering without the app's credentials writes nothing (no claim, no policy
	// cache, no installation from GitHub): it reads the store read-only.
	openFn := openStore
	if *dryRun && cfg.ValidateServe() != nil {
		openFn = openStoreReadOnly
	}
	st, err := openFn(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "escapegate summary: %v\n(a running serve posts due summaries itself; stop it or use a postgres:// store to run this by hand)\n", err)
		return 1
	}
	defer st.Close()
	inst, err := summary.FindInstallation(ctx, st, *org)
	if errors.Is(err, store.ErrNotFound) && cfg.ValidateServe() == nil {
		// Known to GitHub but not to the store (its installation event never came): ask GitHub.
		log := newLogger(stderr, cfg.LogLevel).Level(zerolog.WarnLevel)
		if rerr := reconcileInstallations(ctx, cfg, st, log); rerr != nil {
			fmt.Fprintln(stderr, "escapegate summary: reconciling installations with GitHub:", rerr)
		}
		inst, err = summary.FindInstallation(ctx, st, *org)
	}
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 1
	}
	if err := cfg.ValidateServe(); err != nil {
		if !*dryRun {
			fmt.Fprintln(stderr, "escapegate summary: posting needs the app's credentials:", err)
			return 2
		}
		// Rendering needs no GitHub call except the org policy's escape_rate block:
		// without credentials the defaults stand (window 90 days, critical).
		fmt.Fprintln(stderr, "escapegate summary: no app credentials: rendering with the default escape_rate policy (90 days, critical)")
		out, err := summary.Runner{}.Run(ctx, st, nil, inst, gh.Repo{}, month, true)
		if err != nil {
			fmt.Fprintln(stderr, "escapegate summary:", err)
			return 1
		}
		fmt.Fprintf(stdout, "# %s\n\n%s\n", out.Title, out.Body)
		return 0
	}
	clients, err := server.AppClients(cfg.GitHub, "escapegate/"+version)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 1
	}
	// The org policy names the summary repository; it is read the way serve reads it,
	// its cached copy sealed under the same key.
	key, err := server.FingerprintKey(ctx, st, fingerprintKeyOptions(cfg, newLogger(stderr, cfg.LogLevel)))
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 1
	}
	sealer, err := seal.New(key, seal.PolicyCache)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 1
	}
	policies := policy.NewLoader(st, time.Now, policy.WithSealer(sealer))
	svc := summary.Service{Store: st, Clients: clients, Policy: policies.Load,
		Log: newLogger(stderr, cfg.LogLevel).Level(zerolog.WarnLevel)}
	out, err := svc.RunOne(ctx, inst.ID, month, *dryRun)
	if err != nil {
		fmt.Fprintln(stderr, "escapegate summary:", err)
		return 1
	}
	if *dryRun {
		fmt.Fprintf(stdout, "# %s\n\n%s\n", out.Title, out.Body)
		return 0
	}
	fmt.Fprintf(stdout, "%s: %s (issue #%d)\n", out.Title, out.Status, out.Issue.Number)
	return 0
}

// redactDSN hides every password of a store DSN before it is logged or printed: the
// user:pass@ of a URL, its password-like query parameters (?password=, ?sslpassword=)
// and the password=... of a key=value DSN ("host=db user=app password=secret").
func redactDSN(dsn string) string {
	out := dsn
	for _, pw := range dsnPasswords(dsn) {
		out = strings.ReplaceAll(out, pw, "xxxxx")
	}
	return out
}

// scrubDSN removes the DSN's passwords from a text that may quote it (an error).
func scrubDSN(text, dsn string) string {
	for _, pw := range dsnPasswords(dsn) {
		text = strings.ReplaceAll(text, pw, "xxxxx")
	}
	return text
}

var dsnPasswordKV = regexp.MustCompile(`(?i)(?:^|[\s;&?])(?:password|sslpassword|passwd|pwd|pass)\s*=\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s;&]*)`)

// dsnPasswords are the password values a DSN holds, in their raw and escaped spellings,
// longest first so that a replacement never leaves a tail of one.
func dsnPasswords(dsn string) []string {
	set := map[string]bool{}
	add := func(v string) {
		if len(v) == 0 {
			return
		}
		set[v] = true
		if u, err := url.QueryUnescape(v); err == nil && u != "" {
			set[u] = true
		}
		if u, err := url.PathUnescape(v); err == nil && u != "" {
			set[u] = true
		}
		set[url.QueryEscape(v)] = true
		set[url.PathEscape(v)] = true
	}
	if u, err := url.Parse(dsn); err == nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
			if i := strings.Index(dsn, "://"); i >= 0 {
				if at := strings.LastIndex(dsn[i+3:], "@"); at >= 0 {
					if c := strings.Index(dsn[i+3:i+3+at], ":"); c >= 0 {
						add(dsn[i+3+c+1 : i+3+at])
					}
				}
			}
		}
		for k, vs := range u.Query() {
			switch strings.ToLower(k) {
			case "password", "sslpassword", "passwd", "pwd", "pass":
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	for _, m := range dsnPasswordKV.FindAllStringSubmatch(dsn, -1) {
		v := m[1]
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') {
			add(v[1 : len(v)-1])
		}
		add(v)
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}
