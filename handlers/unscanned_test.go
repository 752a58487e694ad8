package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

// bigEnv is a 4,000-line .env with a GitHub token in its last line: GitHub lists it
// without a patch (its diff is too large).
func bigEnv() []byte {
	var b strings.Builder
	for i := 1; i < 4000; i++ {
		fmt.Fprintf(&b, "SETTING_%d=value-%d\n", i, i)
	}
	b.WriteString("DEPLOY_TOKEN=" + githubToken() + "\n")
	return []byte(b.String())
}

// noPatch is a changed file GitHub lists without a patch.
func noPatch(name, status string, additions int) fakegithub.PullFile {
	return fakegithub.PullFile{Filename: name, Status: status, Additions: additions}
}

// openWithHead puts each file's content at the PR's head, then opens the PR.
func (e *env) openWithHead(n int, head string, contents map[string][]byte, files ...fakegithub.PullFile) events.PR {
	e.t.Helper()
	for path, c := range contents {
		e.h.GitHub.SetFile(e.repo.FullName, sha(head), path, c)
	}
	return e.openPR(n, "alice", head, files...)
}

func TestFileWithoutPatchIsScannedWhole(t *testing.T) {
	e := newEnv(t)
	pr := e.openWithHead(1, "big1", map[string][]byte{"config/prod.env": bigEnv()}, noPatch("config/prod.env", "added", 4000))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" {
		t.Fatalf("conclusion %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	var at []string
	for _, a := range run.Annotations {
		at = append(at, fmt.Sprintf("%s:%d", a.Path, a.StartLine))
	}
	if strings.Join(at, " ") != "config/prod.env:4000" {
		t.Errorf("annotations at %v, want config/prod.env:4000", at)
	}
	if e.requestsHold(githubToken()) {
		t.Error("the raw token was sent to GitHub")
	}
}

func TestImageAlonePasses(t *testing.T) {
	e := newEnv(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00")
	pr := e.openWithHead(1, "png1", map[string][]byte{"assets/logo.png": png}, noPatch("assets/logo.png", "added", 0))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "success" || !strings.Contains(run.Summary, "assets/logo.png: image (PNG)") || !strings.Contains(run.Summary, "does not fail") {
		t.Fatalf("conclusion %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestKeyContainerFails(t *testing.T) {
	e := newEnv(t)
	p12 := []byte("\x30\x82\x0a\x00\x02\x01\x03\x30\x82\x09\xc6\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01 opaque bytes")
	pr := e.openWithHead(1, "p121", map[string][]byte{"certs/prod.p12": p12}, noPatch("certs/prod.p12", "added", 0))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "Private key container added") || len(run.Annotations) != 1 || run.Annotations[0].Path != "certs/prod.p12" {
		t.Fatalf("conclusion %s %q (%d annotations)\n%s", run.Conclusion, run.Title, len(run.Annotations), run.Summary)
	}
	if e.requestsHold("opaque bytes") {
		t.Error("the container's content was sent to GitHub")
	}
}

func TestUnreadableFileFailsOrIsNeutral(t *testing.T) {
	huge := make([]byte, 10<<20+1)
	for i := range huge {
		huge[i] = 'x'
		if i%100 == 99 {
			huge[i] = '\n'
		}
	}
	cases := []struct {
		name, path, why string
		content         []byte
	}{
		{"gone at head", "config/gone.env", "not found at the head commit", nil},
		{"over the size limit", "data/huge.txt", "over the 10 MB", huge},
	}
	for _, tc := range cases {
		for _, neutral := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/neutral=%v", tc.name, neutral), func(t *testing.T) {
				e := newEnv(t)
				if neutral {
					e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("unscanned: neutral\n"))
				}
				contents := map[string][]byte{}
				if tc.content != nil {
					contents[tc.path] = tc.content
				}
				pr := e.openWithHead(1, "u1", contents, noPatch(tc.path, "added", 5000))
				run := e.lastRun(pr.HeadSHA)
				want := "failure"
				if neutral {
					want = "neutral"
				}
				if run.Conclusion != want || !strings.Contains(run.Title, tc.path) || !strings.Contains(run.Summary, tc.why) {
					t.Fatalf("conclusion %s (want %s) %q\n%s", run.Conclusion, want, run.Title, run.Summary)
				}
			})
		}
	}
}

func TestBigFilePushedWithoutPRIsMissed(t *testing.T) {
	e := newEnv(t)
	before, after := sha("p1"), sha("p2")
	e.h.GitHub.SetFile(e.repo.FullName, after, "config/prod.env", bigEnv())
	e.h.GitHub.SetCompare(e.repo.FullName, before, after, []fakegithub.PullFile{noPatch("config/prod.env", "added", 4000)})
	e.send("push", events.Push(e.inst, e.repo, "main", before, after, []string{"config/prod.env"}, "carol"))
	esc := e.escapes()
	if len(esc) != 1 || esc[0].Kind != store.EscapeMissed || esc[0].Path != "config/prod.env" || esc[0].SHA != after {
		t.Fatalf("escapes = %+v", esc)
	}
}

// A file over 1 MB, which GitHub's contents API answers without content in JSON, is read
// through the raw media type and scanned whole.
func TestFileOverOneMegabyteIsReadRaw(t *testing.T) {
	e := newEnv(t)
	big := strings.Repeat("# padding line of a generated file\n", 60000) + "TOKEN=" + githubToken() + "\n"
	pr := e.openWithHead(1, "mb1", map[string][]byte{"gen/big.env": []byte(big)}, noPatch("gen/big.env", "added", 60001))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" || len(run.Annotations) != 1 || run.Annotations[0].StartLine != 60001 {
		t.Fatalf("conclusion %s %q (%d annotations)\n%s", run.Conclusion, run.Title, len(run.Annotations), run.Summary)
	}
}
