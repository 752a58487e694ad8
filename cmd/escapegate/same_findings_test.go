package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// A change in a git repository: a secret in a new file, a secret added to a modified
// file, a wider agent permission next to one already on the base, and a workflow.
var (
	baseFiles = map[string]string{
		".claude/settings.json": "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"]\n  }\n}\n",
		"app/settings.py":       "DEBUG = False\nNAME = 'app'\n",
	}
	headFiles = map[string]string{
		".claude/settings.json": "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"],\n    \"defaultMode\": \"bypassPermissions\"\n  }\n}\n",
		"app/settings.py":       "DEBUG = False\nNAME = 'app'\nAWS_ACCESS_KEY_ID = '" + fakecreds.FakeAWSKey() + "'\n",
		"config/prod.env":       "A=1\nGITHUB_TOKEN=" + fakecreds.FakeGitHubPAT() + "\n",
	}
)

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// gitChange commits baseFiles, then headFiles, and returns the folder and both commits.
func gitChange(t *testing.T) (dir, base, head string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir = t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, baseFiles)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "base")
	base = git(t, dir, "rev-parse", "HEAD")
	git(t, dir, "checkout", "-q", "-b", "feature")
	writeFiles(t, dir, headFiles)
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "head")
	head = git(t, dir, "rev-parse", "HEAD")
	return dir, base, head
}

// pullFiles splits a unified diff into GitHub's per-file listing (a patch is the hunks).
func pullFiles(t *testing.T, unified string) []fakegithub.PullFile {
	t.Helper()
	var out []fakegithub.PullFile
	for _, part := range strings.Split(unified, "diff --git ")[1:] {
		header, hunks, ok := strings.Cut(part, "\n@@")
		if !ok {
			t.Fatalf("no hunk in %q", part)
		}
		plus := header[strings.Index(header, "\n+++ b/")+len("\n+++ b/"):]
		f := fakegithub.PullFile{Filename: strings.TrimSpace(strings.SplitN(plus, "\n", 2)[0]), Status: "modified", Patch: strings.TrimRight("@@"+hunks, "\n")}
		if strings.Contains(header, "\nnew file mode") {
			f.Status = "added"
		}
		f.Additions = strings.Count(f.Patch, "\n+")
		out = append(out, f)
	}
	return out
}

// TestScanAndPRCheckSameFindings runs `escapegate scan --diff` in the repository and the
// PR check through the real webhook path on the same change: every finding (rule,
// severity, path, line, already on the base or not) is the same, and so are the
// fingerprints of the critical risks the check records.
func TestScanAndPRCheckSameFindings(t *testing.T) {
	dir, base, head := gitChange(t)
	unified := git(t, dir, "diff", base, head) + "\n"
	patchFile := filepath.Join(t.TempDir(), "change.patch")
	if err := os.WriteFile(patchFile, []byte(unified), 0o600); err != nil {
		t.Fatal(err)
	}

	// The PR check, through the webhook handler, against a fake GitHub that holds the same files.
	ctx := context.Background()
	h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	h.GitHub.AddRepo(repo.FullName, "main")
	h.GitHub.AddRepo("acme/.github", "main")
	h.GitHub.AddInstallation(9, repo.FullName, "acme/.github")
	for p, body := range baseFiles {
		h.GitHub.SetFile(repo.FullName, base, p, []byte(body))
	}
	for p, body := range headFiles {
		h.GitHub.SetFile(repo.FullName, head, p, []byte(body))
	}
	pr := events.PR{Number: 1, Title: "change", Author: "alice", HeadSHA: head, HeadRef: "feature", BaseSHA: base, BaseRef: "main"}
	h.GitHub.AddPull(repo.FullName, fakegithub.Pull{Number: 1, Title: pr.Title, Author: "alice", HeadSHA: head, HeadRef: "feature", BaseSHA: base, BaseRef: "main", Files: pullFiles(t, unified)})
	if code, err := h.Send(ctx, "pull_request", events.PullRequest(9, repo, "opened", pr, "alice")); err != nil || code != 200 {
		t.Fatalf("webhook: %d %v", code, err)
	}
	runs := h.GitHub.CheckRuns(repo.FullName)
	if len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Fatalf("check runs: %+v", runs)
	}
	var fromCheck []string
	for _, a := range runs[0].Annotations {
		// Titles read "critical secret: github-pat"; existing findings say so in the message.
		sev, rest, _ := strings.Cut(a.Title, " ")
		_, rule, _ := strings.Cut(rest, ": ")
		rule, _, _ = strings.Cut(rule, " (OWASP")
		fromCheck = append(fromCheck, fmt.Sprintf("%s %s %s:%d existing=%v", sev, rule, a.Path, a.StartLine, strings.Contains(a.Message, "Already on the base branch")))
	}
	key := h.FingerprintKey // the server's, kept outside the store

	// The CLI in the repository, with the server's fingerprint key.
	args := []string{"scan", "--diff", patchFile, "--dir", dir, "--base", base, "--head", head, "--repo", repo.FullName, "--fingerprint-key", string(key), "--format", "json"}
	code, out, errOut := runCmd(t, "", args...)
	if code != 1 {
		t.Fatalf("scan exit %d: %s", code, errOut)
	}
	var doc struct {
		Findings []struct {
			Rule, Severity, Path, Fingerprint string
			Line                              int
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// JSON has no "existing" key: the text output marks those.
	_, text, _ := runCmd(t, "", append(args[:len(args)-1], "text")...)
	var fromCLI []string
	cliFP := map[string]bool{}
	for _, f := range doc.Findings {
		existing := strings.Contains(text, fmt.Sprintf("%s:%d: %s %s", f.Path, f.Line, f.Severity, f.Rule)) &&
			strings.Contains(lineOf(text, fmt.Sprintf("%s:%d:", f.Path, f.Line)), "[already on the base branch]")
		fromCLI = append(fromCLI, fmt.Sprintf("%s %s %s:%d existing=%v", f.Severity, f.Rule, f.Path, f.Line, existing))
		cliFP[f.Fingerprint] = true
	}
	sort.Strings(fromCheck)
	sort.Strings(fromCLI)
	if strings.Join(fromCheck, "\n") != strings.Join(fromCLI, "\n") {
		t.Fatalf("the PR check and scan disagree\ncheck:\n%s\nscan:\n%s", strings.Join(fromCheck, "\n"), strings.Join(fromCLI, "\n"))
	}
	if len(fromCLI) < 4 || !strings.Contains(strings.Join(fromCLI, "\n"), "existing=true") {
		t.Fatalf("the change should give secrets, a new and an existing agent finding: %v", fromCLI)
	}
	sc, err := h.Store.GetScan(ctx, repo.FullName, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Findings) == 0 {
		t.Fatal("the check recorded no critical risk")
	}
	for _, f := range sc.Findings {
		if !cliFP[f.Fingerprint] {
			t.Errorf("the check's %s at %s:%d has fingerprint %s, which scan did not give", f.Rule, f.Path, f.Line, f.Fingerprint)
		}
	}
}

func lineOf(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
