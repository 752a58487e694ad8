// Package diff turns unified diffs into the lines a change adds, with their
// new-file line numbers. Only added lines ever become findings.
package diff

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line is one line of the new file: its 1-based number and its text without the newline.
type Line struct {
	No   int
	Text string
}

// File is one file of a diff.
type File struct {
	Path    string // new path ("" when deleted: then OldPath)
	OldPath string
	Status  string // added, modified, removed, renamed
	Binary  bool
	Added   []Line
	// Removed holds removed lines with their old-file numbers; a suppression on a
	// removed line that comes back added was already on the base branch.
	Removed []Line
}

// MaxLineBytes bounds one diff line; longer lines (minified or generated files) are cut
// there so a single line cannot exhaust memory. Secrets beyond the cut are not seen.
const MaxLineBytes = 1 << 20

// ErrLongLine is returned by ParsePatch for a line over MaxLineBytes: the caller reads
// the file whole instead of scanning a cut line.
var ErrLongLine = fmt.Errorf("a line over %d bytes", MaxLineBytes)

// ParsePatch parses the hunks of one file as GitHub returns them in a pull request
// file's `patch` field (no file headers). A line over MaxLineBytes is not cut: the patch
// is refused with ErrLongLine.
func ParsePatch(patch string) (added, removed []Line, err error) {
	f := &File{}
	p := hunkParser{file: f}
	for i := 1; ; i++ {
		raw, rest, more := strings.Cut(patch, "\n")
		if len(strings.TrimSuffix(raw, "\r")) > MaxLineBytes+1 { // the line and its +, - or space
			return nil, nil, fmt.Errorf("patch line %d: %w", i, ErrLongLine)
		}
		if err := p.line(raw); err != nil {
			return nil, nil, fmt.Errorf("patch line %d: %w", i, err)
		}
		if !more {
			break
		}
		patch = rest
	}
	return f.Added, f.Removed, nil
}

// lineReader yields the lines of a reader without their "\n" or "\r\n", cutting any
// line at MaxLineBytes. Each chunk of input becomes one string and its lines are
// substrings of it, so reading costs no allocation per line.
type lineReader struct {
	r     io.Reader
	buf   []byte // read buffer, reused
	lines string // complete lines not yet returned
	tail  []byte // in buf: the start of a line whose end is not read yet
	skip  bool   // dropping the rest of a line that was cut
	eof   bool
	err   error
}

// chunkBytes is how much input one read asks for. Chunks stay small enough to be
// ordinary heap objects: large ones cost fresh, zeroed pages.
const chunkBytes = 32 << 10

func (lr *lineReader) next() (string, bool) {
	for {
		if i := strings.IndexByte(lr.lines, '\n'); i >= 0 {
			line := lr.lines[:i]
			lr.lines = lr.lines[i+1:]
			return cutLine(line), true
		}
		if lr.eof {
			if len(lr.tail) > 0 && !lr.skip {
				line := string(lr.tail[:min(len(lr.tail), MaxLineBytes)])
				lr.tail = nil
				return cutLine(line), true
			}
			return "", false
		}
		lr.fill()
	}
}

// fill reads the next chunk: its complete lines go to lr.lines, the rest to lr.tail.
func (lr *lineReader) fill() {
	nt := len(lr.tail)
	if cap(lr.buf) < nt+chunkBytes {
		lr.buf = make([]byte, max(nt+chunkBytes, 2*cap(lr.buf))) // a long line: the buffer grows to hold it
	}
	lr.buf = lr.buf[:cap(lr.buf)]
	copy(lr.buf, lr.tail) // the tail may overlap its new place: copy moves it safely
	n, err := io.ReadFull(lr.r, lr.buf[nt:nt+chunkBytes])
	if err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			lr.err = err
		}
		lr.eof = true
	}
	buf := lr.buf[:nt+n]
	from := nt // the tail holds no newline: a long line is not searched again at every read
	if lr.skip {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			lr.tail = nil
			return
		}
		lr.skip = false
		buf, from = buf[i+1:], 0
	}
	if i := bytes.LastIndexByte(buf[from:], '\n'); i >= 0 {
		lr.lines = string(buf[:from+i+1])
		buf = buf[from+i+1:]
	}
	if len(buf) > MaxLineBytes && !lr.eof {
		// A line with no end in sight: keep its first MaxLineBytes, drop the rest.
		lr.lines += string(buf[:MaxLineBytes]) + "\n"
		lr.skip = true
		buf = nil
	}
	lr.tail = buf
}

// cutLine drops a trailing "\r" and cuts the line at MaxLineBytes.
func cutLine(s string) string {
	s = strings.TrimSuffix(s, "\r")
	return s[:min(len(s), MaxLineBytes)]
}

// Parse reads a git-style unified diff (as `git diff` or `git format-patch` writes it,
// or a plain `diff -u`) and returns its files in order. A line longer than
// MaxLineBytes is cut there (the rest of it is skipped).
func Parse(r io.Reader) ([]File, error) {
	d := NewReader(r)
	var files []File
	for {
		f, err := d.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
}

// Reader reads the files of a unified diff one at a time, as Parse does, holding only
// the file being read: a diff of any size is scanned in constant memory.
type Reader struct {
	lr   lineReader
	cur  *File
	p    hunkParser
	n    int // lines read
	done bool
	// slabs hold the lines of the files handed out, many files to an allocation:
	// a slice per file, grown line by line, was a third of reading a diff.
	slabs lineSlabs
}

// NewReader reads the diff r holds.
func NewReader(r io.Reader) *Reader { return &Reader{lr: lineReader{r: r}} }

// newFile starts a file, its lines going to the slabs.
func (d *Reader) newFile() {
	d.cur = &File{Status: "modified"}
	d.p = hunkParser{file: d.cur, slabs: &d.slabs}
}

// lineSlabs are shared backing arrays for the lines of many files: a file's lines are
// appended at the end of a slab and cut off when the file ends, so that a slab is one
// allocation for about slabLines lines. A file that outgrows what is left of a slab
// moves to a new one. A slab lives as long as one of its files.
type lineSlabs struct{ added, removed []Line }

const slabLines = 4096

func appendToSlab(s []Line, l Line) []Line {
	if len(s) == cap(s) {
		ns := make([]Line, len(s), max(slabLines, 2*len(s)))
		copy(ns, s)
		s = ns
	}
	return append(s, l)
}

// cutSlab hands out the lines appended to s since the last cut (nil for none), capped
// so that appending to them cannot overwrite the next file's.
func cutSlab(s *[]Line) []Line {
	n := len(*s)
	if n == 0 {
		return nil
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	return out
}

// Next returns the next file of the diff, or io.EOF after the last one. Its paths are
// copies, so a finding that keeps one does not keep the input chunk it came from.
func (d *Reader) Next() (File, error) {
	for !d.done {
		raw, ok := d.lr.next()
		if !ok {
			if d.lr.err != nil {
				d.done = true
				return File{}, fmt.Errorf("reading diff: %w", d.lr.err)
			}
			d.done = true
			if f, ok := d.flush(); ok {
				return f, nil
			}
			break
		}
		d.n++
		cur, p := d.cur, &d.p
		switch {
		case strings.HasPrefix(raw, "diff --git "):
			f, ok := d.flush()
			d.newFile()
			a, b := splitGitHeader(raw[len("diff --git "):])
			d.cur.OldPath, d.cur.Path = a, b
			if ok {
				return f, nil
			}
			continue
		case p.inHunk():
			// inside a hunk every line belongs to it until the counts run out
		case strings.HasPrefix(raw, "--- "):
			var f File
			var done bool
			if cur == nil || p.started {
				f, done = d.flush()
				d.newFile()
			}
			if name := headerPath(raw[4:]); name == "" {
				d.cur.Status = "added"
			} else {
				d.cur.OldPath = name
			}
			if done {
				return f, nil
			}
			continue
		case strings.HasPrefix(raw, "+++ ") && cur != nil:
			if name := headerPath(raw[4:]); name == "" {
				cur.Status, cur.Path = "removed", ""
			} else {
				cur.Path = name
			}
			continue
		case cur != nil && !p.started:
			switch {
			case strings.HasPrefix(raw, "new file mode"):
				cur.Status = "added"
			case strings.HasPrefix(raw, "deleted file mode"):
				cur.Status = "removed"
			case strings.HasPrefix(raw, "rename from "):
				cur.Status, cur.OldPath = "renamed", raw[len("rename from "):]
			case strings.HasPrefix(raw, "rename to "):
				cur.Path = raw[len("rename to "):]
			case strings.HasPrefix(raw, "Binary files ") || strings.HasPrefix(raw, "GIT binary patch"):
				cur.Binary = true
			}
		}
		if cur == nil {
			continue // preamble (commit message, email headers)
		}
		if err := p.line(raw); err != nil {
			d.done = true
			return File{}, fmt.Errorf("diff line %d: %w", d.n, err)
		}
	}
	return File{}, io.EOF
}

// flush hands out the file read so far, if any.
func (d *Reader) flush() (File, bool) {
	if d.cur == nil {
		return File{}, false
	}
	f := *d.cur
	d.cur = nil
	f.Added, f.Removed = cutSlab(&d.slabs.added), cutSlab(&d.slabs.removed)
	if f.Status == "removed" {
		f.Path = ""
	}
	f.Path, f.OldPath = strings.Clone(f.Path), strings.Clone(f.OldPath)
	return f, true
}

// hunkParser follows @@ headers and counts lines so that a removed line starting
// with "--" or an added "++" is never mistaken for a file header.
type hunkParser struct {
	file             *File
	slabs            *lineSlabs // nil: lines go to the file's own slices
	started          bool
	oldLeft, newLeft int
	oldNo, newNo     int
}

func (p *hunkParser) inHunk() bool { return p.oldLeft > 0 || p.newLeft > 0 }

func (p *hunkParser) line(raw string) error {
	if strings.HasPrefix(raw, "@@") && !p.inHunk() {
		o, oc, nw, nc, err := parseHunkHeader(raw)
		if err != nil {
			return err
		}
		p.started = true
		p.oldNo, p.oldLeft, p.newNo, p.newLeft = o, oc, nw, nc
		return nil
	}
	if !p.inHunk() {
		return nil // trailing text, "\ No newline at end of file", blank separator
	}
	if raw == "" {
		raw = " " // some tools strip the space of an empty context line
	}
	switch raw[0] {
	case '+':
		if p.slabs != nil {
			p.slabs.added = appendToSlab(p.slabs.added, Line{No: p.newNo, Text: raw[1:]})
		} else {
			p.file.Added = append(p.file.Added, Line{No: p.newNo, Text: raw[1:]})
		}
		p.newNo++
		p.newLeft--
	case '-':
		if p.slabs != nil {
			p.slabs.removed = appendToSlab(p.slabs.removed, Line{No: p.oldNo, Text: raw[1:]})
		} else {
			p.file.Removed = append(p.file.Removed, Line{No: p.oldNo, Text: raw[1:]})
		}
		p.oldNo++
		p.oldLeft--
	case ' ':
		p.newNo++
		p.oldNo++
		p.newLeft--
		p.oldLeft--
	case '\\':
		// "\ No newline at end of file"
	default:
		return fmt.Errorf("unexpected line in hunk: %q", truncate(raw, 40))
	}
	if p.newLeft < 0 || p.oldLeft < 0 {
		return fmt.Errorf("hunk has more lines than its header says")
	}
	return nil
}

// parseHunkHeader reads "@@ -a,b +c,d @@ optional section".
func parseHunkHeader(h string) (oldStart, oldCount, newStart, newCount int, err error) {
	rest := strings.TrimPrefix(h, "@@")
	end := strings.Index(rest, "@@")
	if end < 0 {
		return 0, 0, 0, 0, fmt.Errorf("malformed hunk header %q", truncate(h, 60))
	}
	fields, n := fields2(rest[:end])
	if n != 2 || !strings.HasPrefix(fields[0], "-") || !strings.HasPrefix(fields[1], "+") {
		return 0, 0, 0, 0, fmt.Errorf("malformed hunk header %q", truncate(h, 60))
	}
	if oldStart, oldCount, err = parseRange(fields[0][1:]); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("hunk header %q: %w", truncate(h, 60), err)
	}
	if newStart, newCount, err = parseRange(fields[1][1:]); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("hunk header %q: %w", truncate(h, 60), err)
	}
	return oldStart, oldCount, newStart, newCount, nil
}

// fields2 is strings.Fields for a text that should hold two fields, without a slice
// per hunk header: the first two fields, and how many there are (3 meaning more).
func fields2(s string) (f [2]string, n int) {
	start := -1
	for i, r := range s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				if n == 2 {
					return f, 3
				}
				f[n] = s[start:i]
				n++
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		if n == 2 {
			return f, 3
		}
		f[n] = s[start:]
		n++
	}
	return f, n
}

func parseRange(s string) (start, count int, err error) {
	count = 1
	a, b, hasCount := strings.Cut(s, ",")
	if start, err = strconv.Atoi(a); err != nil || start < 0 {
		return 0, 0, fmt.Errorf("bad line number %q", a)
	}
	if hasCount {
		if count, err = strconv.Atoi(b); err != nil || count < 0 {
			return 0, 0, fmt.Errorf("bad line count %q", b)
		}
	}
	if count > 0 && start == 0 {
		return 0, 0, fmt.Errorf("line count %d from line 0", count)
	}
	return start, count, nil
}

// headerPath reads the path of a ---/+++ line: "a/x.go", "b/x.go", "/dev/null", with an optional tab and timestamp.
func headerPath(s string) string {
	if i := strings.IndexByte(s, '\t'); i >= 0 {
		s = s[:i]
	}
	s = unquote(strings.TrimSpace(s))
	if s == "/dev/null" {
		return ""
	}
	if strings.HasPrefix(s, "a/") || strings.HasPrefix(s, "b/") {
		return s[2:]
	}
	return s
}

// splitGitHeader splits "a/x b/x" (paths may be quoted or hold spaces).
func splitGitHeader(s string) (string, string) {
	if strings.HasPrefix(s, `"`) {
		if a, rest, ok := cutQuoted(s); ok {
			return strings.TrimPrefix(a, "a/"), strings.TrimPrefix(unquote(strings.TrimSpace(rest)), "b/")
		}
	}
	// Unquoted: the header is "a/P b/P"; with equal paths the midpoint splits it.
	if i := strings.Index(s, " b/"); i >= 0 && len(s) == 2*i+1 {
		return strings.TrimPrefix(s[:i], "a/"), s[i+3:]
	}
	if i := strings.LastIndex(s, " b/"); i >= 0 {
		return strings.TrimPrefix(s[:i], "a/"), s[i+3:]
	}
	return s, s
}

func cutQuoted(s string) (string, string, bool) {
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == '"' {
			return unquote(s[:i+1]), s[i+1:], true
		}
	}
	return "", "", false
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// IsBinary reports whether content looks binary: a NUL byte in its first 8000 bytes (as
// git decides), or more than a third of those bytes not valid UTF-8.
func IsBinary(content []byte) bool {
	if len(content) > 8000 {
		content = content[:8000]
	}
	if bytes.IndexByte(content, 0) >= 0 {
		return true
	}
	invalid := 0
	for i := 0; i < len(content); {
		r, n := utf8.DecodeRune(content[i:])
		if r == utf8.RuneError && n == 1 && len(content)-i >= utf8.UTFMax {
			invalid++
		}
		i += n
	}
	return invalid*3 > len(content)
}

// Lines splits whole-file content into numbered lines, for scanning plain files as if all were added.
func Lines(content []byte) []Line {
	// One copy of the content and one slice of lines: every line ends at a newline,
	// without the "\r" of a "\r\n"; a last line without a newline keeps what it has.
	s := string(content)
	out := make([]Line, 0, bytes.Count(content, []byte{'\n'})+1)
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, Line{No: len(out) + 1, Text: s})
			break
		}
		out = append(out, Line{No: len(out) + 1, Text: strings.TrimSuffix(s[:i], "\r")})
		s = s[i+1:]
	}
	return out
}
