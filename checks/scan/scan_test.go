package scan

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/secrets"
)

var (
	engineOnce sync.Once
	engine     *secrets.Engine
	engineErr  error
)

func scanner(t *testing.T) Scanner {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = secrets.New(secrets.Options{}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return Scanner{Secrets: engine, Fingerprint: checks.NewFingerprinter([]byte("scan-test")), Repo: "acme/app"}
}

// A made-up GitHub token, assembled so that no source line holds one.
func token() string { return "ghp_" + "R7kPq2Ws9Xv4Lm8Tz3Bn6Hc1" + "Jd5Fg0Ya7Ue2" }

// contents is a plain source: head and base by path; a missing map means that side is unknown.
type contents struct {
	head, base map[string]string
	err        error
	asked      []string
}

func (c *contents) Head(_ context.Context, p string) ([]byte, error) {
	c.asked = append(c.asked, "head:"+p)
	if c.err != nil {
		return nil, c.err
	}
	if c.head == nil {
		return nil, ErrUnknown
	}
	if s, ok := c.head[p]; ok {
		return []byte(s), nil
	}
	return nil, nil
}

func (c *contents) Base(_ context.Context, p string) ([]byte, error) {
	c.asked = append(c.asked, "base:"+p)
	if c.base == nil {
		return nil, ErrUnknown
	}
	if s, ok := c.base[p]; ok {
		return []byte(s), nil
	}
	return nil, nil
}

func lines(text string, from int) []diff.Line {
	var out []diff.Line
	for i, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		out = append(out, diff.Line{No: from + i, Text: l})
	}
	return out
}

const (
	settingsPath = ".claude/settings.json"
	wideSettings = "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"]\n  }\n}\n"
	// the same file with one more allow entry on line 3; Bash(*) stays on line 3
	widerSettings = "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read(**)\"]\n  }\n}\n"
)

func TestScan(t *testing.T) {
	type want struct {
		rule     string
		line     int
		existing bool
	}
	cases := []struct {
		name string
		file File
		src  *contents
		want []want
	}{
		{
			name: "a secret on an added line",
			file: File{Path: "app.env", Status: "modified", Added: lines("TOKEN="+token(), 4)},
			want: []want{{rule: "github-pat", line: 4}},
		},
		{
			name: "a removed file yields nothing",
			file: File{Path: "app.env", Status: "removed", Removed: lines("TOKEN="+token(), 4)},
		},
		{
			name: "a secret on a removed line yields nothing",
			file: File{Path: "app.env", Status: "modified", Added: lines("TOKEN=from-vault", 4), Removed: lines("TOKEN="+token(), 4)},
		},
		{
			name: "a new agent file, no source: its added lines are the file",
			file: File{Path: settingsPath, Status: "added", Added: lines(wideSettings, 1)},
			want: []want{{rule: "AGT-CC-1", line: 3}},
		},
		{
			name: "a setting already on the base is existing",
			file: File{Path: settingsPath, Status: "modified", Added: lines(`    "allow": ["Bash(*)", "Read(**)"]`, 3)},
			src:  &contents{head: map[string]string{settingsPath: widerSettings}, base: map[string]string{settingsPath: wideSettings}},
			want: []want{{rule: "AGT-CC-1", line: 3, existing: true}},
		},
		{
			name: "a renamed file is compared with its old path",
			file: File{Path: settingsPath, PreviousPath: "old/settings.json", Status: "renamed", Added: lines(`    "allow": ["Bash(*)", "Read(**)"]`, 3)},
			src:  &contents{head: map[string]string{settingsPath: widerSettings}, base: map[string]string{"old/settings.json": wideSettings}},
			want: []want{{rule: "AGT-CC-1", line: 3, existing: true}},
		},
		{
			name: "an unknown base keeps what is on added lines",
			file: File{Path: settingsPath, Status: "modified", Added: lines(`    "allow": ["Bash(*)"]`, 3)},
			src:  &contents{head: map[string]string{settingsPath: wideSettings}},
			want: []want{{rule: "AGT-CC-1", line: 3}},
		},
		{
			name: "an unknown base drops what is on lines the change did not add",
			file: File{Path: settingsPath, Status: "modified", Added: lines(`  "env": {}`, 5)},
			src:  &contents{head: map[string]string{settingsPath: "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"]\n  },\n  \"env\": {}\n}\n"}},
		},
		{
			name: "a file absent at head falls back to what the change adds",
			file: File{Path: settingsPath, Status: "modified", Added: lines(wideSettings, 1)},
			src:  &contents{head: map[string]string{}, base: map[string]string{}},
			want: []want{{rule: "AGT-CC-1", line: 3}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var src Contents
			if tc.src != nil {
				src = tc.src
			}
			got, err := scanner(t).Scan(context.Background(), tc.file, src)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d findings %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if !strings.HasPrefix(g.Rule, w.rule) || g.Line != w.line || g.Existing != w.existing || g.Path != tc.file.Path {
					t.Errorf("finding %d = %s %s:%d existing=%v, want %s line %d existing=%v", i, g.Rule, g.Path, g.Line, g.Existing, w.rule, w.line, w.existing)
				}
				if strings.Contains(g.Message+g.Redacted, token()) {
					t.Errorf("finding %d shows the raw secret", i)
				}
			}
		})
	}
}

func TestScanReadsOnlyWhatItNeeds(t *testing.T) {
	src := &contents{head: map[string]string{}, base: map[string]string{}}
	s := scanner(t)
	if _, err := s.Scan(context.Background(), File{Path: "main.go", Status: "modified", Added: lines("x := 1", 1)}, src); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Scan(context.Background(), File{Path: settingsPath, Status: "added", Added: lines(wideSettings, 1)}, src); err != nil {
		t.Fatal(err)
	}
	if want := []string{"head:" + settingsPath}; strings.Join(src.asked, ",") != strings.Join(want, ",") {
		t.Errorf("asked %v, want %v (no content for a plain file, no base for a new one)", src.asked, want)
	}
}

func TestScanSourceErrors(t *testing.T) {
	boom := errors.New("502 from GitHub")
	_, err := scanner(t).Scan(context.Background(), File{Path: settingsPath, Status: "modified", Added: lines(wideSettings, 1)}, &contents{err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's error wrapped", err)
	}
}

func TestWholeAndJoinLines(t *testing.T) {
	content := []byte("a\nb\n\nd\n")
	f := Whole("x.txt", content)
	if f.Status != "added" || len(f.Added) != 4 {
		t.Fatalf("Whole = %+v", f)
	}
	if got := string(JoinLines([]diff.Line{{No: 2, Text: "b"}, {No: 4, Text: "d"}})); got != "\nb\n\nd\n" {
		t.Errorf("JoinLines = %q", got)
	}
}
