package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/escapegate/escapegate/checks/scan"
)

// localContents gives `scan --diff` the whole files that agent and workflow
// configurations are evaluated on: the head from the working tree (or from git at
// --head), the base from git. It opens nothing outside the scanned root: paths a diff
// names are checked to stay inside it, and the working tree is read through os.Root,
// which refuses `..` and symbolic links that lead out.
type localContents struct {
	root       *os.Root
	git        string // the repository's top level; "" outside a repository
	head, base string // commit ids; head "" is the working tree, base "" is unknown
}

// openLocal opens dir (a repository's work tree or a plain folder) for a diff scan.
// Inside a git repository the base is baseRef, else the merge base of HEAD with the
// default branch when there is one; outside, the base is unknown.
func openLocal(ctx context.Context, dir, baseRef, headRef string) (*localContents, error) {
	l := &localContents{}
	if top, err := gitOut(ctx, dir, "rev-parse", "--show-toplevel"); err == nil {
		l.git = strings.TrimSpace(top)
		dir = l.git
	} else if baseRef != "" || headRef != "" {
		return nil, fmt.Errorf("--base and --head need a git repository; %s is not in one", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	l.root = root
	if l.git == "" {
		return l, nil
	}
	if headRef != "" {
		if l.head, err = l.commit(ctx, headRef); err != nil {
			root.Close()
			return nil, err
		}
	}
	if baseRef != "" {
		if l.base, err = l.commit(ctx, baseRef); err != nil {
			root.Close()
			return nil, err
		}
		return l, nil
	}
	l.base = l.defaultBase(ctx)
	return l, nil
}

// commit resolves a revision to a commit id, or says it names none.
func (l *localContents) commit(ctx context.Context, rev string) (string, error) {
	if strings.HasPrefix(rev, "-") {
		return "", fmt.Errorf("%q is not a revision", rev)
	}
	out, err := gitOut(ctx, l.git, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return "", fmt.Errorf("%q names no commit of %s", rev, l.git)
	}
	return strings.TrimSpace(out), nil
}

// defaultBase is the merge base of HEAD with the default branch (origin's HEAD, else
// main or master), or "" when none can be found: then the base is unknown.
func (l *localContents) defaultBase(ctx context.Context) string {
	var candidates []string
	if ref, err := gitOut(ctx, l.git, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"); err == nil {
		candidates = append(candidates, strings.TrimSpace(ref))
	}
	candidates = append(candidates, "origin/main", "origin/master", "main", "master")
	for _, c := range candidates {
		if _, err := l.commit(ctx, c); err != nil {
			continue
		}
		if mb, err := gitOut(ctx, l.git, "merge-base", "HEAD", c); err == nil {
			return strings.TrimSpace(mb)
		}
	}
	return ""
}

func (l *localContents) Close() error { return l.root.Close() }

// Head reads a file as the diff leaves it.
func (l *localContents) Head(ctx context.Context, path string) ([]byte, error) {
	if err := inside(path); err != nil {
		return nil, err
	}
	if l.head != "" {
		return l.show(ctx, l.head, path)
	}
	b, err := l.root.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// Base reads a file as it was before the diff.
func (l *localContents) Base(ctx context.Context, path string) ([]byte, error) {
	if err := inside(path); err != nil {
		return nil, err
	}
	if l.base == "" {
		return nil, scan.ErrUnknown
	}
	return l.show(ctx, l.base, path)
}

// show reads path at a commit; a path the commit does not have is absent.
func (l *localContents) show(ctx context.Context, commit, path string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", l.git, "cat-file", "blob", commit+":"+path).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, nil // the commit was verified: what fails is the path
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s at %s: %w", path, commit, err)
	}
	return out, nil
}

// inside refuses a path that a diff names outside the scanned root.
func inside(path string) error {
	if !filepath.IsLocal(filepath.FromSlash(path)) {
		return fmt.Errorf("the diff names %q, which is outside the scanned root", path)
	}
	return nil
}

func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
