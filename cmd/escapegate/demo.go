package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/escapegate/escapegate/internal/demo"
)

func runDemo(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	transcript := fs.String("transcript", "", "also write every request escapegate sent to GitHub as JSON lines {method,path,body}")
	verbose := fs.Bool("v", false, "show escapegate's own log lines on standard error")
	ghes := fs.Bool("ghes", false, "serve the fake GitHub as GitHub Enterprise Server does: the API under /api/v3/ only, rate limits off")
	ui := fs.Bool("ui", false, "keep the dashboard (/ui) up on the demo's data until interrupted")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := os.MkdirTemp("", "escapegate-demo-")
	if err != nil {
		fmt.Fprintln(stderr, "escapegate demo:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	var logw io.Writer
	if *verbose {
		logw = stderr
	}
	h, err := demo.NewHarness(ctx, demo.Options{Dir: dir, Log: logw, Enterprise: *ghes, UI: true})
	if err != nil {
		fmt.Fprintln(stderr, "escapegate demo:", err)
		return 1
	}
	defer h.Close()
	fmt.Fprintf(stdout, "escapegate demo: the real webhook handler at %s, a fake GitHub at %s, a temporary store in %s\n", h.URL, h.GitHub.URL(), dir)
	runErr := demo.Run(ctx, h, stdout)
	if *transcript != "" {
		f, err := os.Create(*transcript)
		if err != nil {
			fmt.Fprintln(stderr, "escapegate demo:", err)
			return 1
		}
		werr := h.GitHub.WriteTranscript(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			fmt.Fprintln(stderr, "escapegate demo: writing transcript:", werr)
			return 1
		}
		fmt.Fprintf(stdout, "\ntranscript of %d GitHub requests written to %s\n", len(h.GitHub.Requests()), *transcript)
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "escapegate demo:", runErr)
		return 1
	}
	fmt.Fprintf(stdout, "\n== the dashboard\n%s/ui/  sign in on the fake GitHub as sec-lead (an active member of acme/security); bob is refused\n", h.URL)
	if !*ui {
		fmt.Fprintln(stdout, "(run `escapegate demo --ui` to keep it up and open it in a browser)")
		return 0
	}
	fmt.Fprintln(stdout, "serving until interrupted (Ctrl-C)")
	<-ctx.Done()
	return 0
}
