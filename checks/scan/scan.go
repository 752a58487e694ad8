// Package scan is the one scan step: given one changed file, it runs every detector
// and returns the findings, marking those that were already on the base. The PR check,
// the push accounting and every mode of `escapegate scan` call it and nothing else, so
// a change gets the same findings wherever it is scanned. Detectors are pure; the
// whole-file contents that agent and workflow configurations need come through
// Contents, which the caller implements (GitHub's contents API, git, a local tree).
package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/agents"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/secrets"
)

// File is one changed file of a pull request, a push or a local diff.
type File struct {
	Path         string
	PreviousPath string // a rename's old path; "" otherwise
	Status       string // added, modified, removed, renamed, ...
	Added        []diff.Line
	Removed      []diff.Line
}

// Contents reads whole files at the change's head and base when a detector needs them.
// A file absent at that side is (nil, nil); ErrUnknown says the side cannot be read
// at all (a local diff outside a repository has no base).
type Contents interface {
	Head(ctx context.Context, path string) ([]byte, error)
	Base(ctx context.Context, path string) ([]byte, error)
}

// ErrUnknown is returned by Contents for a side it cannot read.
var ErrUnknown = errors.New("content not known")

// Scanner runs the detectors of one repository.
type Scanner struct {
	Secrets     *secrets.Engine
	Fingerprint checks.Fingerprinter
	Repo        string // owner/name, part of every secret's fingerprint
}

// Scan returns the findings of one changed file. Secrets are looked for on the added
// lines only. Agent and workflow configurations are evaluated whole at head and
// compared with the base, so a setting already on the base is marked Existing; when the
// base cannot be read, only findings on added lines are kept, since nothing else can be
// told apart from what was already there.
func (s Scanner) Scan(ctx context.Context, f File, src Contents) ([]checks.Finding, error) {
	if f.Status == "removed" || f.Path == "" {
		return nil, nil
	}
	out := s.Secrets.ScanFile(s.Fingerprint, s.Repo, f.Path, f.Added, f.Removed)
	if !agents.Wants(f.Path, f.Added) {
		return out, nil
	}
	head, err := s.head(ctx, f, src)
	if err != nil {
		return out, fmt.Errorf("reading %s at head: %w", f.Path, err)
	}
	if head == nil {
		if len(f.Added) == 0 {
			return out, nil // gone at head and nothing added: nothing to evaluate
		}
		// The source does not have it (a diff from another checkout, a file gone since):
		// what the change adds is still evaluated, at its line numbers.
		head = JoinLines(f.Added)
	}
	base, baseKnown, err := s.base(ctx, f, src)
	if err != nil {
		return out, fmt.Errorf("reading %s at base: %w", basePath(f), err)
	}
	found := agents.Evaluate(s.Fingerprint, f.Path, head, base)
	if baseKnown {
		return append(out, found...), nil
	}
	added := make(map[int]bool, len(f.Added))
	for _, l := range f.Added {
		added[l.No] = true
	}
	for _, fd := range found {
		if fd.Line == 0 || added[fd.Line] {
			out = append(out, fd)
		}
	}
	return out, nil
}

// head is the file's content at head. When the source cannot read it (a diff alone), a
// new file is its added lines, and of another file the added fragment at its line
// numbers is the best there is.
func (s Scanner) head(ctx context.Context, f File, src Contents) ([]byte, error) {
	if src != nil {
		b, err := src.Head(ctx, f.Path)
		if !errors.Is(err, ErrUnknown) {
			return b, err
		}
	}
	return JoinLines(f.Added), nil
}

// base is the file's content at base and whether the base is known at all.
func (s Scanner) base(ctx context.Context, f File, src Contents) ([]byte, bool, error) {
	if f.Status == "added" {
		return nil, true, nil // a new file has no base: everything in it is new
	}
	if src == nil {
		return nil, false, nil
	}
	b, err := src.Base(ctx, basePath(f))
	if errors.Is(err, ErrUnknown) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func basePath(f File) string {
	if f.PreviousPath != "" {
		return f.PreviousPath
	}
	return f.Path
}

// Whole is a file scanned in full, every line added (a tree or a file without a diff).
func Whole(path string, content []byte) File {
	return File{Path: path, Status: "added", Added: diff.Lines(content)}
}

// JoinLines rebuilds content from numbered lines, leaving the lines it does not have
// blank so that line numbers hold.
func JoinLines(ls []diff.Line) []byte {
	var b strings.Builder
	n := 1
	for _, l := range ls {
		for ; n < l.No; n++ {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
		b.WriteByte('\n')
		n++
	}
	return []byte(b.String())
}

// WholeContents serves one known content as the head, with no base (a file scanned whole).
type WholeContents []byte

func (w WholeContents) Head(context.Context, string) ([]byte, error) { return w, nil }
func (w WholeContents) Base(context.Context, string) ([]byte, error) { return nil, nil }
