package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/agents"
	"github.com/escapegate/escapegate/checks/scan"
	"github.com/escapegate/escapegate/checks/secrets"
)

func runRules(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, json or markdown")
	category := fs.String("category", "", "only secret or agent-permission rules")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	eng, err := secrets.New(secrets.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "escapegate rules:", err)
		return 1
	}
	var rules []checks.RuleInfo
	for _, r := range append(append(eng.Rules(), scan.Rules()...), agents.Rules()...) {
		if *category == "" || string(r.Category) == *category {
			rules = append(rules, r)
		}
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"rules": rules}); err != nil {
			fmt.Fprintln(stderr, "escapegate rules:", err)
			return 1
		}
	case "markdown":
		fmt.Fprintln(stdout, "| rule | category | severity | source | description |\n|---|---|---|---|---|")
		for _, r := range rules {
			fmt.Fprintf(stdout, "| `%s` | %s | %s | %s | %s |\n", r.ID, r.Category, r.Severity, r.Source, strings.ReplaceAll(r.Description, "|", "\\|"))
		}
	case "text":
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tCATEGORY\tSEVERITY\tSOURCE\tDESCRIPTION")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Category, r.Severity, r.Source, r.Description)
		}
		_ = tw.Flush()
	default:
		fmt.Fprintf(stderr, "escapegate rules: unknown format %q\n", *format)
		return 2
	}
	return 0
}
