package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/escapegate/escapegate/app/policy"
)

func runValidate(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	org := fs.Bool("org", false, "validate as the org policy (default: decided by the file name: escapegate.yml is the org's, .github/escapegate.yml a repository's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: escapegate validate [--org] FILE ...\n\nExit codes: 0 valid, 1 invalid, 2 unreadable.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "escapegate validate:", err)
			return 2
		}
		isOrg := *org || policy.IsOrgFileName(path)
		if _, err := policy.ParseFile(path, data, isOrg); err != nil {
			code = 1
			var es policy.Errors
			if errors.As(err, &es) {
				for _, e := range es {
					fmt.Fprintln(stdout, e.Error())
				}
				continue
			}
			fmt.Fprintln(stdout, err)
			continue
		}
		kind := "repository"
		if isOrg {
			kind = "org"
		}
		fmt.Fprintf(stdout, "%s: valid %s policy\n", path, kind)
	}
	return code
}
