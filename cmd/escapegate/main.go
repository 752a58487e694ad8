// Command escapegate is the escapegate GitHub App and its tools: serve, demo,
// scan, report, register, validate, summary, migrate, rules.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":      {"run the GitHub App (webhooks, health, metrics, monthly summaries)", runServe},
		"demo":       {"run the whole flow against an in-process fake GitHub, no credentials", runDemo},
		"scan":       {"scan a unified diff or files for secrets and agent permissions", runScan},
		"report":     {"print a repository's escape rate from the store", runReport},
		"register":   {"create the GitHub App from app.yml (manifest flow) and save its credentials", runRegister},
		"validate":   {"check a policy file offline", runValidate},
		"summary":    {"render or post a monthly summary issue", runSummary},
		"migrate":    {"bring the store's schema up to date", runMigrate},
		"deliveries": {"list, retry or drop the webhook deliveries the inbox holds", runDeliveries},
		"rules":      {"list the detector rules", runRules},
		"version": {"print the version", func(_ context.Context, _ []string, _ io.Reader, out, _ io.Writer) int {
			fmt.Fprintln(out, version)
			return 0
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: escapegate COMMAND [flags]\n\ncommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'escapegate COMMAND -h' for a command's flags.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "escapegate: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, args[1:], stdin, stdout, stderr)
}
