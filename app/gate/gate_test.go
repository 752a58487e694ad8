package gate_test

// The domain's unit tests: the service against a plain fake of GitHub (ghfake) and the
// in-memory store, no HTTP. The behaviours are those the end-to-end tests of handlers/
// check over webhooks; here they are asked of the domain directly.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

const (
	inst     = 9
	repoName = "acme/app"
	orgRepo  = "acme/.github"
	// overrideLabel is the default policy's override label.
	overrideLabel = "escapegate/accept-risk"
)

var repo = gh.Repo{Owner: "acme", Name: "app"}

// teamPolicy is an org policy whose only approvers are active members of acme/security.
const teamPolicy = `fail_on: high
override:
  label: escapegate/accept-risk
  approvers:
    teams: [security]
    permission: ""
  expires_after_days: 30
`

// engine is the default secret engine, compiled once for the package (about 100 ms).
var engine = sync.OnceValues(func() (*secrets.Engine, error) { return secrets.New(secrets.Options{}) })

// start is the fixed clock's first reading.
var start = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// everything is a window that holds every record a test makes.
var everything = store.Window{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}

// fixture is one service with its fake GitHub, store and clock. GitHub knows
// acme/app (default branch main) and acme/.github; no policy file exists.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	gh    *ghfake.Client
	st    *memstore.Store
	svc   *gate.Service
	now   time.Time     // the clock; advance it between calls
	tick  time.Duration // how far each reading of the clock moves it on (0: it stands still)
	clock sync.Mutex

	deliveries int
}

func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with options changed by opt (nil: none).
func newFixtureWith(t *testing.T, opt func(*gate.Options)) *fixture {
	t.Helper()
	eng, err := engine()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: context.Background(), gh: ghfake.New(), st: memstore.New(), now: start}
	f.gh.Repos[repoName] = "main"
	f.gh.Repos[orgRepo] = "main"
	o := gate.Options{
		Store:          f.st,
		Clients:        func(id int64) (gh.Client, error) { return f.gh, nil },
		FingerprintKey: []byte("unit-test-fingerprint-key"),
		Now: func() time.Time {
			// A slow scan's run is created on a goroutine of its own (InProgressAfter).
			f.clock.Lock()
			defer f.clock.Unlock()
			t := f.now
			f.now = f.now.Add(f.tick)
			return t
		},
		Secrets: eng,
		// A scan in a test never shows as in progress unless the test asks for it: the
		// default budget could run out on a loaded machine.
		InProgressAfter: time.Hour,
	}
	if opt != nil {
		opt(&o)
	}
	f.svc, err = gate.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// orgPolicy puts the org policy file on the default branch of acme/.github.
func (f *fixture) orgPolicy(yaml string) { f.gh.SetFile(orgRepo, "", "escapegate.yml", yaml) }

// withTeamPolicy installs teamPolicy with sec-lead an active member of acme/security
// and pat a pending one.
func (f *fixture) withTeamPolicy() {
	f.orgPolicy(teamPolicy)
	f.gh.Teams[ghfake.Member{Org: "acme", Team: "security", User: "sec-lead"}] = "active"
	f.gh.Teams[ghfake.Member{Org: "acme", Team: "security", User: "pat"}] = "pending"
}

func (f *fixture) advance(d time.Duration) { f.now = f.now.Add(d) }

// sha makes a 40-character commit id from a short tag.
func sha(tag string) string { return fmt.Sprintf("%040s", tag) }

// addedPatch makes a patch that adds lines to a new file.
func addedPatch(lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -0,0 +1,%d @@", len(lines))
	for _, l := range lines {
		b.WriteString("\n+" + l)
	}
	return b.String()
}

// envFile is a changed file that adds lines to a new file.
func envFile(name string, lines ...string) gh.File {
	return gh.File{Filename: name, Status: "added", Additions: len(lines), Changes: len(lines), Patch: addedPatch(lines...)}
}

// pr makes PR n of acme/app by author at head tag, based on main at sha("base").
func pr(n int, author, head string) gate.PR {
	return gate.PR{Installation: inst, Repo: repo, RepoID: 42, DefaultBranch: "main", Number: n, Author: author,
		HeadSHA: sha(head), BaseSHA: sha("base"), HeadRef: fmt.Sprintf("feature/%d", n), BaseRef: "main",
		Title: fmt.Sprintf("change %d", n)}
}

// register puts p on the fake GitHub with its files, as GitHub would list it.
func (f *fixture) register(p gate.PR, files ...gh.File) {
	f.gh.AddPull(repoName, gh.PullRequest{Number: p.Number, Title: p.Title, State: "open", Author: p.Author,
		HeadSHA: p.HeadSHA, HeadRef: p.HeadRef, BaseRef: p.BaseRef, BaseSHA: p.BaseSHA, Labels: p.Labels}, files...)
}

// open registers PR n and checks it, as pull_request opened does.
func (f *fixture) open(n int, author, head string, files ...gh.File) gate.PR {
	f.t.Helper()
	p := pr(n, author, head)
	f.register(p, files...)
	f.check(p)
	return p
}

// push moves p to a new head with new files and checks it, as synchronize does.
func (f *fixture) push(p gate.PR, head string, files ...gh.File) gate.PR {
	f.t.Helper()
	p.HeadSHA = sha(head)
	f.register(p, files...)
	f.check(p)
	return p
}

func (f *fixture) check(p gate.PR) gate.CheckOutcome {
	f.t.Helper()
	out, err := f.svc.CheckPullRequest(f.ctx, p)
	if err != nil {
		f.t.Fatalf("checking #%d at %s: %v", p.Number, p.HeadSHA, err)
	}
	return out
}

// runsOn returns the escapegate check runs on head, oldest first.
func (f *fixture) runsOn(head string) []ghfake.CheckRun {
	var out []ghfake.CheckRun
	for _, r := range f.gh.CheckRuns {
		if r.HeadSHA == head && r.Name == gate.CheckName && r.Repo == repoName {
			out = append(out, r)
		}
	}
	return out
}

// lastRun returns the newest escapegate check run on head.
func (f *fixture) lastRun(head string) ghfake.CheckRun {
	f.t.Helper()
	runs := f.runsOn(head)
	if len(runs) == 0 {
		f.t.Fatalf("no escapegate check run on %s", head)
	}
	return runs[len(runs)-1]
}

// labelEvent puts label on p (on GitHub and in the event) and returns the event.
func (f *fixture) labelEvent(p gate.PR, label, sender, delivery string) gate.LabelEvent {
	k := ghfake.PR{Repo: repoName, Number: p.Number}
	f.gh.Labels[k] = append(f.gh.Labels[k], label)
	p.Labels = append(append([]string(nil), p.Labels...), label)
	return gate.LabelEvent{PR: p, Label: label, Sender: sender, SenderType: "User", DeliveryID: delivery}
}

// label delivers a labeled event (a new delivery) and fails the test on an error.
func (f *fixture) label(p gate.PR, label, sender string) gate.OverrideOutcome {
	f.t.Helper()
	f.deliveries++
	out, err := f.svc.Labeled(f.ctx, f.labelEvent(p, label, sender, fmt.Sprintf("delivery-%d", f.deliveries)))
	if err != nil {
		f.t.Fatalf("labeled by %s: %v", sender, err)
	}
	return out
}

func (f *fixture) exceptions(n int) []store.Exception {
	f.t.Helper()
	list, err := f.st.ListExceptions(f.ctx, repoName, n, everything)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func (f *fixture) refused() []store.RefusedOverride {
	f.t.Helper()
	list, err := f.st.ListRefused(f.ctx, repoName, everything)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func (f *fixture) escapes() []store.Escape {
	f.t.Helper()
	list, err := f.st.ListEscapes(f.ctx, repoName, everything)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// Made-up credentials, assembled at run time so that no source file holds one.
func awsKey() string      { return fakecreds.FakeAWSKey() }
func githubToken() string { return fakecreds.FakeGitHubPAT() }
func slackToken() string  { return fakecreds.FakeSlackBotToken() }
func stripeKey() string   { return fakecreds.FakeStripeLiveKey() }

func criticalLine() string { return "AWS_ACCESS_KEY_ID=" + awsKey() }

// highLine is caught by escapegate-url-credentials (high, not critical).
func highLine() string { return "MIRROR=https://deploy:" + "Xk9p2Lq7Wz4m" + "@mirror.example.com/repo" }

// mediumLine is a Stripe test key (medium).
func mediumLine() string {
	return "STRIPE_KEY=" + "sk_test_" + "51Hx9Qm2Rt7Wk4Pn8Lz3Vb6Jc1" + "Fd5Gs0Ya7Ue2"
}

func hasLabel(ls []string, l string) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}
