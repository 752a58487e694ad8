package handlers_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/internal/testenv"
)

// planted is a made-up secret, the documented prefix its redacted form may show, and
// where the test puts it.
type planted struct{ where, raw, prefix string }

// knownGap lists what this test finds and does not yet fail on (nothing now: the policy
// cache is sealed, app/seal).
var knownGap = map[string]bool{}

// TestPlantedSecretsLeaveNoTrace plants secrets in every path the data takes through the
// real webhook path (patches, whole agent files, PR titles, labels, comments, the org
// policy, errors) and then searches the bbolt file's bytes, the log, every check run,
// comment and issue, and every request escapegate sent, for their raw values and for
// any part of them beyond the documented prefix.
func TestPlantedSecretsLeaveNoTrace(t *testing.T) {
	logs := &testenv.Buffer{}
	e, dir := newEnvOpts(t, demo.Options{Log: logs})
	e.withTeamPolicy()
	gh := githubToken()
	ps := []planted{
		{"patch", awsKey(), "AKIA"},
		{"patch-password", "Zx8#kP2vQ9mLw4", ""},
		{"whole-file", "sk-proj-" + "Qm7Rt2Vx9Lp4Kw8Nz3Bc6Hd1Fg5Jy0Ta", "sk-proj-"},
		{"title", "ghp_" + "Tt1aQw3Er5Ty7Ui9Op2As4Df6Gh8Jk0Zx1Cv", "ghp_"},
		{"label", "ghp_" + "Ll2bMn4Bv6Cx8Za1Qs3Wd5Ef7Rg9Th0Yj2Uk", "ghp_"},
		{"comment", slackToken(), "xoxb-"},
		{"policy", "ghp_" + "Pp3cNh5Gy7Ft9Dr1Se2Aw4Zq6Xk8Ml0Bj3Vo", "ghp_"},
		{"error", "ghp_" + "Ee4dUi6Jo8Kp1Lq3Mr5Ns7Ot9Pu0Qv2Rw4Sx", "ghp_"},
		{"github", gh, "ghp_"},
	}
	raw := map[string]string{}
	for _, p := range ps {
		raw[p.where] = p.raw
	}

	// The org policy holds a secret where a value belongs: the error names the line, not the value.
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(teamPolicy+"release:\n  labels: [\""+raw["policy"]+"\"]\nsummary: {repository: \""+raw["policy"]+"\"}\n"))

	// A PR whose title holds a token, whose patch adds a key and a connection string, and
	// whose agent configuration (read whole) holds a literal credential.
	mcp := `{"mcpServers": {"openai": {"command": "npx", "args": ["-y", "srv"], "env": {"OPENAI_API_KEY": "` + raw["whole-file"] + `"}}}}`
	pr := events.PR{Number: 1, Title: "rotate " + raw["title"], Author: "alice", HeadSHA: sha("p1"), HeadRef: "feature/" + "x", BaseSHA: sha("base"), BaseRef: "main"}
	files := []fakegithub.PullFile{
		envFile("config/.env.production", "AWS_ACCESS_KEY_ID="+raw["patch"], "GITHUB_TOKEN="+raw["github"]),
		envFile("config/database.yml", "url: postgres://app:"+raw["patch-password"]+"@db.internal:5432/app"),
		{Filename: ".mcp.json", Status: "added", Additions: 1, Patch: addedPatch(mcp)},
	}
	e.h.GitHub.SetFile(e.repo.FullName, pr.HeadSHA, ".mcp.json", []byte(mcp))
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: 1, Title: pr.Title, Author: "alice", HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef, BaseSHA: pr.BaseSHA, BaseRef: "main", Files: files})
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "opened", pr, "alice"))

	// A label named with a token, by someone who may not override; the override label refused.
	e.label(pr, "deploy/"+raw["label"], "mallory")
	e.label(pr, overrideLabel, "mallory")

	// A comment with a token on a release PR whose comment escapegate looks for.
	rel := events.PR{Number: 2, Title: "release 2.4.0", Author: "bot", HeadSHA: sha("r1"), HeadRef: "release-please--main", BaseSHA: sha("base"), BaseRef: "main", Labels: []string{"release"}}
	e.h.GitHub.AddComment(e.repo.FullName, 2, "mallory", "here is the token: "+raw["comment"])
	e.openReleasePR(rel)

	// Errors quoting a secret: the repository's policy file gives a key a token where a
	// number belongs; the parse error is posted on the check run and logged.
	e.h.GitHub.SetFile(e.repo.FullName, "", ".github/escapegate.yml", []byte("fail_on: high\noverride:\n  expires_after_days: "+raw["error"]+"\n"))
	e.push(pr, "p2", files...)

	e.merge(pr, "sec-lead")

	// Everything escapegate wrote or sent.
	var out bytes.Buffer
	for _, r := range e.h.GitHub.Requests() {
		b, _ := json.Marshal(r)
		out.Write(b)
		out.Write(r.Body)
		out.WriteString(r.Path + "\n")
	}
	sent := out.String()
	runs, _ := json.Marshal(e.h.GitHub.CheckRuns(e.repo.FullName))
	db, err := os.ReadFile(filepath.Join(dir, "escapegate.db"))
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"requests": sent, "check runs": string(runs), "log": logs.String(), "store file": string(db)}
	// Comments escapegate wrote (the planted one on #2 is GitHub's, not escapegate's).
	var mine []string
	for _, c := range append(e.h.GitHub.Comments(e.repo.FullName, 1), e.h.GitHub.Comments(e.repo.FullName, 2)...) {
		if c.Author != "mallory" {
			mine = append(mine, c.Body)
		}
	}
	places["comments"] = strings.Join(mine, "\n")

	// The searches look at real output.
	if !strings.Contains(string(runs), "AKIA…") || !strings.Contains(string(runs), "ghp_…") {
		t.Fatalf("the check runs hold no redacted finding, so searching them proves nothing:\n%s", runs)
	}
	for _, p := range ps {
		// The raw value base64-encoded (as a []byte field of a JSON record is), at each of
		// the three alignments, minus the characters the neighbouring bytes change.
		for k := 0; k < 3; k++ {
			enc := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{0}, k), p.raw...))
			inner := enc[4 : len(enc)-4]
			for place, text := range places {
				if knownGap[p.where+" in the "+place] {
					continue
				}
				if strings.Contains(text, inner) {
					t.Errorf("%s: the %s holds the secret base64-encoded", p.where, place)
				}
			}
		}
		rest := strings.TrimPrefix(p.raw, p.prefix)
		// Any 8 characters of the secret past its prefix (a redacted form shows none).
		chunks := regexp.MustCompile(`.{8}`).FindAllString(rest, -1)
		for place, text := range places {
			if knownGap[p.where+" in the "+place] {
				t.Logf("known gap: %s in the %s (see docs/security.md)", p.where, place)
				continue
			}
			if strings.Contains(text, p.raw) {
				t.Errorf("%s: the %s holds the raw secret", p.where, place)
				continue
			}
			for _, c := range chunks {
				if strings.Contains(text, c) {
					t.Errorf("%s: the %s holds %q, part of the secret past its prefix", p.where, place, c)
					break
				}
			}
		}
	}
}
