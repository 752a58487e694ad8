package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
)

// Annotation levels GitHub accepts.
const (
	LevelFailure = "failure"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

const (
	// DefaultLabel is the override label when policy names none.
	DefaultLabel = "escapegate/accept-risk"

	sectionCap  = 8000 // bytes for each list that can grow with input (fixes, errors, files)
	tailReserve = 400  // bytes kept free for "…and N more" lines
)

// OverrideHelp says who may override and how, for the "accepting the risk" text.
type OverrideHelp struct {
	Label            string   // the override label; DefaultLabel when empty
	ReasonLabels     []string // reason labels applied together with it
	Teams            []string // "org/team-slug"
	Permission       string   // repository permission that also qualifies: admin, maintain or ""
	AllowAuthor      bool     // may a pull request's author approve their own pull request
	ExpiresAfterDays int      // 0: not said
}

// NotScanned is a changed file that was skipped, with the reason.
type NotScanned struct{ Path, Why string }

// CheckInput is what a check run says about one pull request head besides its verdict.
type CheckInput struct {
	Repo    string
	PR      int
	HeadSHA string
	// Expired says that the pull request's exception expired (and the check fails again).
	Expired string
	// Override says how to override.
	Override OverrideHelp
	// NotScanned lists files GitHub sent no patch for (binary, too large).
	NotScanned []NotScanned
	// TooManyFiles: the pull request has more files than GitHub lists; the check fails closed.
	TooManyFiles bool
	// PolicyErrors report an invalid policy file on the default branch; the last valid policy applies.
	PolicyErrors []string
	// PolicyNotes report what policy did, such as a refused loosening by the repository file.
	PolicyNotes []string
	// ChangedPolicyErrors: the pull request changes a policy file that does not validate.
	ChangedPolicyErrors []string
	// Revoked are the GitHub tokens the pull request adds that were sent to GitHub's
	// revocation API (secrets.revoke_github_tokens), or failed to be.
	Revoked []Revoked
}

// Revoked is a GitHub token the check revoked (At) or failed to revoke (Failed).
type Revoked struct {
	Rule, Redacted, Path string
	Line                 int
	At                   time.Time
	Failed               bool
}

// Result is what the check run is completed with.
type Result struct {
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	Annotations []gh.Annotation
	Actions     []gh.CheckAction
}

// RequestExceptionID identifies the check run's "Request exception" button.
const RequestExceptionID = "request_exception"

// requestException is the button of a failing check whose findings an exception can cover.
var requestException = gh.CheckAction{
	Label: "Request exception", Description: "Ask an approver to review these risks", Identifier: RequestExceptionID,
}

// CheckRun renders the completed check run of a decided verdict.
func CheckRun(v verdict.Verdict, in CheckInput) Result {
	in.Override.Label = cmp.Or(in.Override.Label, DefaultLabel)
	r := renderer{in: in, v: v, failOn: v.Policy.FailOn, criticalAt: v.Policy.CriticalAt, exc: v.Exception}
	res := Result{Conclusion: v.Conclusion}
	res.Title = clip(oneLine(r.title(res.Conclusion)), MaxTitle)
	res.Annotations, r.annotated = r.annotations()
	res.Summary = r.summary(res.Conclusion)
	res.Text = r.text()
	if res.Conclusion == "failure" && len(v.Uncovered) > 0 {
		res.Actions = []gh.CheckAction{requestException}
	}
	return res
}

// row is one finding with its place on the check run.
type row = verdict.Item

type renderer struct {
	in                 CheckInput
	v                  verdict.Verdict
	failOn, criticalAt checks.Severity
	exc                *verdict.Exception
	annotated          int
}

func (r *renderer) total() int { return r.v.Total() }

// riskCount says "2 critical risks" when all share a severity, else "3 risks (2 critical, 1 high)".
func riskCount(rs []row) string {
	bySev := map[checks.Severity]int{}
	var order []checks.Severity
	for _, r := range rs {
		if bySev[r.Finding.Severity] == 0 {
			order = append(order, r.Finding.Severity)
		}
		bySev[r.Finding.Severity]++
	}
	if len(order) == 1 {
		return plural(len(rs), string(order[0])+" risk", string(order[0])+" risks")
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", bySev[s], s)
	}
	return fmt.Sprintf("%s (%s)", plural(len(rs), "risk", "risks"), strings.Join(parts, ", "))
}

// categoryCount says "1 secret, 1 agent permission".
func categoryCount(rs []row) string {
	var secrets, agents, other int
	for _, r := range rs {
		switch r.Finding.Category {
		case checks.CategorySecret:
			secrets++
		case checks.CategoryAgentPermission:
			agents++
		default:
			other++
		}
	}
	var parts []string
	if secrets > 0 {
		parts = append(parts, plural(secrets, "secret", "secrets"))
	}
	if agents > 0 {
		parts = append(parts, plural(agents, "agent permission", "agent permissions"))
	}
	if other > 0 {
		parts = append(parts, plural(other, "other finding", "other findings"))
	}
	return strings.Join(parts, ", ")
}

// exceptionTerms says "exception #14, fix later, expires 2026-12-28".
func exceptionTerms(e *verdict.Exception) string {
	parts := []string{fmt.Sprintf("exception #%d", e.ID)}
	if e.Reason != "" {
		parts = append(parts, strings.ReplaceAll(e.Reason, "_", " "))
	}
	if !e.ExpiresAt.IsZero() {
		parts = append(parts, "expires "+e.ExpiresAt.UTC().Format(time.DateOnly))
	}
	return strings.Join(parts, ", ")
}

func approver(e *verdict.Exception) string {
	if e.Approver == "" {
		return "an approver"
	}
	return "@" + strings.TrimPrefix(e.Approver, "@")
}

func (r *renderer) title(conclusion string) string {
	rs, in := r.v, r.in
	switch {
	case len(rs.Uncovered) > 0:
		t := riskCount(rs.Uncovered) + ": " + categoryCount(rs.Uncovered)
		if len(rs.Covered) > 0 && r.exc != nil {
			t += fmt.Sprintf(" (%d more accepted in exception #%d)", len(rs.Covered), r.exc.ID)
		}
		if in.TooManyFiles {
			t += "; more than 3,000 files not scanned"
		}
		if len(in.ChangedPolicyErrors) > 0 {
			t += "; invalid policy file"
		}
		if rs.UnscannedFail {
			t += "; " + plural(len(rs.Unscanned), "file", "files") + " could not be scanned"
		}
		return t
	case in.TooManyFiles:
		return fmt.Sprintf("Not scanned: more than %s changed files", commaNumber(gh.MaxPullFiles))
	case len(in.ChangedPolicyErrors) > 0:
		return "Invalid policy file in this pull request"
	case rs.UnscannedFail:
		return "Not scanned: " + unscannedNames(rs.Unscanned)
	case conclusion == verdict.Neutral && len(rs.Covered) == 0 && len(rs.Unscanned) > 0:
		return "Not scanned (neutral by policy): " + unscannedNames(rs.Unscanned)
	case conclusion == verdict.Neutral:
		return fmt.Sprintf("%s accepted by %s (%s)", riskCount(rs.Covered), approver(r.exc), exceptionTerms(r.exc))
	}
	t := "No secrets or overbroad agent permissions added"
	if n := r.total(); n > 0 {
		t += fmt.Sprintf(" (%s listed, not failing)", plural(n, "finding", "findings"))
	}
	return t
}

// unscannedNames names the files that could not be read, the first few of them.
func unscannedNames(us []verdict.Unscanned) string {
	const shown = 3
	var names []string
	for i, u := range us {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(us)-shown))
			break
		}
		names = append(names, u.Path)
	}
	return strings.Join(names, ", ")
}

func severityBadge(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical:
		return "🔴 critical"
	case checks.SeverityHigh:
		return "🟠 high"
	case checks.SeverityMedium:
		return "🟡 medium"
	case checks.SeverityLow:
		return "⚪ low"
	}
	return "⚪ " + cell(string(s))
}

// risk is the finding in words with its redacted value; it never holds more of a secret than Redacted.
func risk(f checks.Finding) string {
	s := cmp.Or(f.Message, f.Rule)
	// Detectors may already name the redacted value in their message; show it once.
	if f.Redacted != "" && !strings.Contains(s, f.Redacted) {
		s += " " + codeSpan(f.Redacted)
	}
	return s
}

func where(f checks.Finding) string {
	line := max(f.Line, 1)
	if f.EndLine > line {
		return fmt.Sprintf("%s:%d-%d", f.Path, line, f.EndLine)
	}
	return fmt.Sprintf("%s:%d", f.Path, line)
}

func ruleCell(f checks.Finding) string {
	s := codeSpan(f.Rule)
	if len(f.OWASP) > 0 {
		s += " · OWASP " + cell(strings.Join(f.OWASP, ", "))
	}
	return s
}

// table writes rows as a Markdown table within w's budget, keeping reserve
// bytes free, and says how many rows did not fit.
func (r *renderer) table(w *budget, rs []row, extra string, extraCell func(row) string, reserve int) {
	head := "| | risk | where | rule |"
	sep := "|---|---|---|---|"
	if extra != "" {
		head += " " + extra + " |"
		sep += "---|"
	}
	w.add(head+"\n"+sep, reserve)
	for i, x := range rs {
		line := fmt.Sprintf("| %s | %s | %s | %s |", severityBadge(x.Finding.Severity), r.riskCell(x), codeSpan(where(x.Finding)), ruleCell(x.Finding))
		if extra != "" {
			line += " " + extraCell(x) + " |"
		}
		if !w.add("\n"+line, reserve) {
			w.force(fmt.Sprintf("\n\n…and %s more not shown here: GitHub limits this text to %s characters. %s",
				commaNumber(len(rs)-i), commaNumber(MaxChars), r.annotationNote()))
			return
		}
	}
}

func (r *renderer) riskCell(x row) string {
	s := cell(risk(x.Finding))
	if x.State == verdict.Failing && x.Finding.Suppressed {
		s += " — inline suppression ignored"
	}
	return s
}

func (r *renderer) annotationNote() string {
	if r.annotated < r.total() {
		return fmt.Sprintf("The first %s of %s findings are annotated on their lines.", commaNumber(r.annotated), commaNumber(r.total()))
	}
	return "Every finding is annotated on its line."
}

// verdict is the first paragraph: what this check decided, in plain words, and what to do.
func (r *renderer) verdict(conclusion string) string {
	rs, in := r.v, r.in
	var paras []string
	if n := len(rs.Uncovered); n > 0 {
		them := "them"
		if n == 1 {
			them = "it"
		}
		if len(rs.Covered) > 0 && r.exc != nil {
			paras = append(paras, fmt.Sprintf("**This pull request adds %s that %s not accepted.** Exception #%d by %s covers %s, but only the risks open when `%s` was applied: remove the new %s, or ask an approver to remove and re-apply the label to accept %s too.",
				riskCount(rs.Uncovered), isAre(n), r.exc.ID, approver(r.exc), plural(len(rs.Covered), "other", "others"),
				in.Override.Label, pronoun(n, "one", "ones"), them))
		} else {
			paras = append(paras, fmt.Sprintf("**This pull request adds %s.** Remove %s, or ask an approver to accept the risk.", riskCount(rs.Uncovered), them))
		}
	}
	if in.TooManyFiles {
		paras = append(paras, fmt.Sprintf("**This pull request changes more than %s files, more than GitHub lists, so escapegate could not scan all of it and fails closed.** Split it into smaller pull requests.", commaNumber(gh.MaxPullFiles)))
	}
	if n := len(rs.Unscanned); n > 0 {
		if rs.UnscannedFail {
			paras = append(paras, fmt.Sprintf("**%s could not be scanned, so this check fails** (policy `unscanned: fail`): what %s adds is not known. Listed below with why: review %s by hand, and make %s readable (smaller, or split) to have this check pass.",
				capitalize(plural(n, "changed file", "changed files")), pronoun(n, "it", "they"), pronoun(n, "it", "them"), pronoun(n, "it", "them")))
		} else {
			paras = append(paras, fmt.Sprintf("**%s could not be scanned**, which policy `unscanned: neutral` makes neutral, not failing: review %s by hand (listed below with why).",
				capitalize(plural(n, "changed file", "changed files")), pronoun(n, "it", "them")))
		}
	}
	if len(in.ChangedPolicyErrors) > 0 {
		paras = append(paras, "**This pull request changes a policy file that is not valid.** Fix the errors below; until it is merged valid, the policy on the default branch stays in force.\n\n"+
			bullets(checks.ScrubValues(in.ChangedPolicyErrors), "more errors"))
	}
	switch {
	case conclusion == verdict.Neutral && len(rs.Covered) == 0:
		// neutral for the unscanned files alone, said above
	case conclusion == verdict.Neutral:
		crit := 0
		for _, x := range rs.Covered {
			if x.Finding.Severity.AtLeast(r.criticalAt) {
				crit++
			}
		}
		p := fmt.Sprintf("**%s in this pull request %s accepted by %s** (%s).", capitalize(riskCount(rs.Covered)), wasWere(len(rs.Covered)), approver(r.exc), exceptionTerms(r.exc))
		if crit > 0 {
			p += fmt.Sprintf(" If this merges, %s as escaped.", plural(crit, "critical risk reaches production and counts", "critical risks reach production and count"))
		} else {
			p += fmt.Sprintf(" None of them is at or above `%s`, so none counts as an escape.", r.criticalAt)
		}
		p += fmt.Sprintf(" Removing `%s` revokes the exception and fails this check again.", in.Override.Label)
		paras = append(paras, p)
	case conclusion == verdict.Success:
		p := "**No secrets or overbroad agent permissions added.**"
		if n := r.total(); n > 0 {
			p = fmt.Sprintf("**No secrets or overbroad agent permissions at or above `%s` added.**", r.failOn)
		}
		if len(in.NotScanned) > 0 {
			p += fmt.Sprintf(" But %s not scanned: review %s by hand (listed below).",
				plural(len(in.NotScanned), "file was", "files were"), pronoun(len(in.NotScanned), "it", "them"))
		} else {
			p += " Nothing to do."
		}
		if n := r.total(); n > 0 {
			p += fmt.Sprintf(" The %s listed below %s this check.", plural(n, "finding", "findings"), failVerb(n))
		}
		paras = append(paras, p)
	}
	return strings.Join(paras, "\n\n")
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

func failVerb(n int) string {
	if n == 1 {
		return "does not fail"
	}
	return "do not fail"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// bullets lists items as a Markdown list within sectionCap bytes.
func bullets(items []string, more string) string {
	w := newBudget(sectionCap)
	for i, it := range items {
		if !w.add("- "+cell(it)+"\n", tailReserve) {
			w.force(fmt.Sprintf("- …and %d %s\n", len(items)-i, more))
			break
		}
	}
	return strings.TrimSuffix(w.String(), "\n")
}

// fixes lists the distinct Fix texts of rs, naming the rules each one is for.
func fixes(rs []row) string {
	type fix struct {
		text  string
		rules []string
	}
	var list []*fix
	byText := map[string]*fix{}
	for _, x := range rs {
		t := strings.TrimSpace(x.Finding.Fix)
		if t == "" {
			continue
		}
		fx := byText[t]
		if fx == nil {
			fx = &fix{text: t}
			byText[t] = fx
			list = append(list, fx)
		}
		if !slices.Contains(fx.rules, x.Finding.Rule) {
			fx.rules = append(fx.rules, x.Finding.Rule)
		}
	}
	switch len(list) {
	case 0:
		return ""
	case 1:
		return "**How to fix.** " + cell(list[0].text)
	}
	w := newBudget(sectionCap)
	w.add("**How to fix.**\n", 0)
	for i, fx := range list {
		names := make([]string, len(fx.rules))
		for j, n := range fx.rules {
			names[j] = codeSpan(n)
		}
		if !w.add(fmt.Sprintf("- %s: %s\n", strings.Join(names, ", "), cell(fx.text)), tailReserve) {
			w.force(fmt.Sprintf("- …and %d more fixes: see the annotations.\n", len(list)-i))
			break
		}
	}
	return strings.TrimSuffix(w.String(), "\n")
}

// teamList names teams as code spans, "`@acme/security` or `@acme/leads`".
func teamList(teams []string) string {
	spans := make([]string, len(teams))
	for i, t := range teams {
		spans[i] = codeSpan("@" + strings.TrimPrefix(t, "@"))
	}
	return joinWord(spans, "or")
}

// whoMay says who may accept a risk, e.g. "an active member of `@acme/security`
// or a user with admin permission on `acme/payments`".
func whoMay(repo string, h OverrideHelp) string {
	var who []string
	if len(h.Teams) > 0 {
		who = append(who, "an active member of "+teamList(h.Teams))
	}
	if h.Permission != "" {
		on := "the repository"
		if repo != "" {
			on = codeSpan(repo)
		}
		who = append(who, fmt.Sprintf("a user with %s permission on %s", cell(h.Permission), on))
	}
	if len(who) == 0 {
		return "nobody (no approver is configured: set `override.approvers` in the organization's policy)"
	}
	return joinWord(who, "or")
}

func reasonLabels(h OverrideHelp) string {
	if len(h.ReasonLabels) == 0 {
		return ""
	}
	ls := make([]string, len(h.ReasonLabels))
	for i, l := range h.ReasonLabels {
		ls[i] = codeSpan(l)
	}
	return " (with " + joinWord(ls, "or") + ")"
}

func (r *renderer) accepting() string {
	h := r.in.Override
	s := fmt.Sprintf("**Accepting the risk.** %s may apply %s%s", capitalize(whoMay(r.in.Repo, h)), codeSpan(h.Label), reasonLabels(h))
	if !h.AllowAuthor {
		s += ", but not on their own pull request"
	}
	s += ". The exception covers the risks open at that moment"
	if h.ExpiresAfterDays > 0 {
		s += fmt.Sprintf(", expires after %s", plural(h.ExpiresAfterDays, "day", "days"))
	}
	s += ", is recorded, and counts toward this repository's escape rate if the change reaches production."
	return s
}

func (r *renderer) policySection() string {
	var parts []string
	if len(r.in.PolicyErrors) > 0 {
		parts = append(parts, "> ⚠️ **The policy file on the default branch has errors; the last valid policy (or the built-in strict defaults) applies until they are fixed.**\n"+
			quote(bullets(checks.ScrubValues(r.in.PolicyErrors), "more errors")))
	}
	if len(r.in.PolicyNotes) > 0 {
		parts = append(parts, "> ℹ️ **Policy.**\n"+quote(bullets(checks.ScrubValues(r.in.PolicyNotes), "more notes")))
	}
	return strings.Join(parts, "\n\n")
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

func (r *renderer) notScanned() string {
	us, ns := r.v.Unscanned, r.in.NotScanned
	if len(us) == 0 && len(ns) == 0 {
		return ""
	}
	var parts []string
	if len(us) > 0 {
		effect := "each fails this check"
		if !r.v.UnscannedFail {
			effect = "neutral by policy `unscanned: neutral`"
		}
		items := make([]string, len(us))
		for i, u := range us {
			items[i] = fmt.Sprintf("%s: %s", u.Path, cmp.Or(u.Why, "could not be read"))
		}
		parts = append(parts, fmt.Sprintf("**Could not be scanned** (%s; review by hand):\n\n%s", effect, bullets(items, "more files")))
	}
	if len(ns) > 0 {
		items := make([]string, len(ns))
		for i, n := range ns {
			items[i] = fmt.Sprintf("%s: %s", n.Path, cmp.Or(n.Why, "no patch from GitHub"))
		}
		parts = append(parts, fmt.Sprintf("**Not scanned** (%s not fail this check; review %s by hand if in doubt):\n\n%s",
			pronoun(len(ns), "it does", "they do"), pronoun(len(ns), "it", "them"), bullets(items, "more files")))
	}
	return strings.Join(parts, "\n\n")
}

func pronoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (r *renderer) suppressionNote() string {
	n := 0
	for _, x := range r.v.Uncovered {
		if x.Finding.Suppressed {
			n++
		}
	}
	for _, x := range r.v.Covered {
		if x.Finding.Suppressed {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("**Inline suppressions ignored.** %s an inline suppression (`escapegate:allow`, `gitleaks:allow`) that this pull request adds. A pull request cannot silence a risk at or above `%s` by itself: policy (`secrets.allow_inline_suppressions: false`) does not allow it.",
		capitalize(plural(n, "failing finding carries", "failing findings carry")), r.criticalAt)
}

func (r *renderer) summary(conclusion string) string {
	rs := r.v
	failing := append(slices.Clone(rs.Uncovered), rs.Covered...)

	var head, tail []string
	head = append(head, r.verdict(conclusion))
	if r.in.Expired != "" {
		head = append(head, "> ⏰ "+oneLine(r.in.Expired))
	}
	if p := r.policySection(); p != "" {
		head = append(head, p)
	}
	if s := r.suppressionNote(); s != "" {
		tail = append(tail, s)
	}
	if f := fixes(failing); f != "" {
		tail = append(tail, f)
	}
	if len(rs.Uncovered) > 0 {
		tail = append(tail, r.accepting())
	}
	if s := r.notScanned(); s != "" {
		tail = append(tail, s)
	}
	if s := r.revoked(); s != "" {
		head = append(head, s)
	}
	if others := len(rs.Existing) + len(rs.Suppressed) + len(rs.Below); others > 0 && conclusion != verdict.Success {
		tail = append(tail, fmt.Sprintf("%s listed below %s this check (already on the base branch, suppressed, or below `%s`).",
			capitalize(plural(others, "finding", "findings")), failVerb(others), r.failOn))
	}
	if r.annotated < r.total() {
		tail = append(tail, fmt.Sprintf("_Annotations are capped at %d: the first %s of %s findings are annotated on their lines, the most severe first._",
			MaxAnnotations, commaNumber(r.annotated), commaNumber(r.total())))
	}

	headText := strings.Join(head, "\n\n")
	tailText := ""
	if len(tail) > 0 {
		tailText = "\n\n" + strings.Join(tail, "\n\n")
	}
	w := newBudget(MaxChars)
	w.force(headText)
	if len(failing) > 0 {
		extra, extraCell := "", func(row) string { return "" }
		if r.exc != nil && len(rs.Covered) > 0 {
			extra = "accepted"
			id := r.exc.ID
			extraCell = func(x row) string {
				if x.Covered {
					return fmt.Sprintf("✅ #%d", id)
				}
				return "❌ not covered"
			}
		}
		w.add("\n\n", 0)
		r.table(w, failing, extra, extraCell, len(tailText)+tailReserve)
	}
	w.force(tailText)
	return strings.TrimSpace(w.String())
}

// text lists what does not fail the check, so the summary stays about what does.
func (r *renderer) text() string {
	rs := r.v
	type section struct {
		title string
		rows  []row
		why   func(row) string
	}
	sections := []section{
		{fmt.Sprintf("Already on the base branch (%d, not failing)", len(rs.Existing)), rs.Existing, nil},
		{fmt.Sprintf("Silenced by inline suppressions (%d, not failing)", len(rs.Suppressed)), rs.Suppressed, r.suppressedWhy},
		{fmt.Sprintf("Below `fail_on: %s` (%d, not failing)", r.failOn, len(rs.Below)), rs.Below, nil},
	}
	w := newBudget(MaxChars)
	var left []section
	for _, s := range sections {
		if len(s.rows) > 0 {
			left = append(left, s)
		}
	}
	for i, s := range left {
		// Each remaining section keeps room for its heading and "more" line.
		reserve := (len(left) - i - 1) * (tailReserve + 100)
		if !w.add("### "+s.title+"\n\n", reserve+tailReserve) {
			break
		}
		extra, cellFn := "", func(row) string { return "" }
		if s.why != nil {
			extra, cellFn = "why", s.why
		}
		r.table(w, s.rows, extra, cellFn, reserve+tailReserve)
		w.add("\n\n", reserve)
	}
	return strings.TrimSpace(w.String())
}

func (r *renderer) suppressedWhy(x row) string {
	switch {
	case x.Finding.SuppressedOnBase:
		return "suppression already on the base branch"
	case !x.Finding.Severity.AtLeast(r.criticalAt):
		return fmt.Sprintf("below `%s`: a suppression may silence it", r.criticalAt)
	}
	return "policy allows inline suppressions"
}

// annotations puts one annotation per finding on its lines, the failing
// uncovered ones first, up to MaxAnnotations; it returns how many it made.
func (r *renderer) annotations() ([]gh.Annotation, int) {
	rs := r.v
	var out []gh.Annotation
	add := func(list []row, level, status string) {
		for _, x := range list {
			if len(out) >= MaxAnnotations {
				return
			}
			f := x.Finding
			start := max(f.Line, 1)
			end := max(f.EndLine, start)
			msg := oneLine(risk(f))
			if f.Fix != "" {
				msg += "\n\nHow to fix: " + strings.TrimSpace(f.Fix)
			}
			if status != "" {
				msg += "\n\n" + status
			}
			head := fmt.Sprintf("%s %s: %s", f.Severity, cmp.Or(f.Category, "finding"), f.Rule)
			if len(f.OWASP) > 0 {
				head += " (OWASP " + strings.Join(f.OWASP, ", ") + ")"
			}
			out = append(out, gh.Annotation{
				Path: f.Path, StartLine: start, EndLine: end, Level: level,
				Title: clip(head, maxAnnotationHead), Message: clip(msg, maxAnnotationMsg),
			})
		}
	}
	add(rs.Uncovered, LevelFailure, "")
	if r.exc != nil {
		add(rs.Covered, LevelWarning, fmt.Sprintf("Accepted by %s (%s).", approver(r.exc), exceptionTerms(r.exc)))
	}
	add(rs.Below, LevelWarning, fmt.Sprintf("Below fail_on (%s): does not fail this check.", r.failOn))
	add(rs.Suppressed, LevelNotice, "Silenced by an inline suppression.")
	add(rs.Existing, LevelNotice, "Already on the base branch: does not fail this check.")
	return out, len(out)
}

// revoked says which GitHub tokens were revoked: they no longer work, whatever the verdict.
func (r *renderer) revoked() string {
	if len(r.in.Revoked) == 0 {
		return ""
	}
	var done, failed []string
	for _, t := range r.in.Revoked {
		item := fmt.Sprintf("%s %s at %s", codeSpan(t.Redacted), codeSpan(t.Rule), codeSpan(fmt.Sprintf("%s:%d", t.Path, t.Line)))
		if t.Failed {
			failed = append(failed, item)
			continue
		}
		done = append(done, item+" on "+t.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	var parts []string
	if len(done) > 0 {
		parts = append(parts, fmt.Sprintf("> 🔒 **Revoked.** escapegate sent %s to GitHub's credential revocation API (the org policy's `secrets.revoke_github_tokens`): %s no longer work%s, and GitHub told the owner. Issue a new token and keep it out of the code.\n%s",
			plural(len(done), "GitHub token", "GitHub tokens"), pronoun(len(done), "it", "they"), pronoun(len(done), "s", ""), quote(bullets(done, "more tokens"))))
	}
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("> ⚠️ **Not revoked yet.** GitHub did not take %s; the next check of this pull request tries again.\n%s",
			plural(len(failed), "token", "tokens"), quote(bullets(failed, "more tokens"))))
	}
	return strings.Join(parts, "\n\n")
}
