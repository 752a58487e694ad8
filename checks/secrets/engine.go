// Package secrets is escapegate's secret detector: gitleaks v8's default rules (loaded
// from the gitleaks module), escapegate's own rules and org policy rules, run by an
// engine built for diffs. Only added lines are scanned; one Aho-Corasick pass over
// every rule's keywords picks candidate lines, and a rule's regex runs only on the
// lines around its keyword hits.
package secrets

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// Bounds on the work one file can cause.
const (
	// LineWindow bounds the text one line puts in a block: a longer (minified,
	// generated) line is scanned whole, in windows of LineWindow bytes that overlap by
	// LineOverlap, more than the longest secret a rule matches (a PEM block of an RSA
	// 4096 key is about 3.3 KB), so a secret anywhere on the line lies whole in one window.
	LineWindow  = 64 << 10
	LineOverlap = 4 << 10
	// maxBlockBytes splits a run of consecutive added lines into blocks of about this
	// size, so memory stays bounded; a multi-line secret across a split is not found.
	maxBlockBytes = 4 << 20
)

// Suppression markers that gitleaks and escapegate honor on a line.
const (
	MarkerGitleaks   = "gitleaks:allow"
	MarkerEscapegate = "escapegate:allow"
)

// Options configures an Engine.
type Options struct {
	// ExtraRulesTOML is gitleaks-format TOML from org policy: its rules are added to
	// the defaults (never replacing them); its global allowlists apply to its own rules only.
	ExtraRulesTOML []byte
}

// Engine scans the added lines of files. It is compiled once and safe for concurrent use.
type Engine struct {
	rules       []rule
	keywords    *kwMatcher // every rule keyword; a hit reports the rules having it
	noKeyword   []int32    // regex rules without keywords: they run on every line
	pathOnly    []int32    // rules without a regex: the path alone is the finding
	pathChecked []int32    // rules whose eligibility depends on the file's path
	globalSets  [][]*config.Allowlist
	stops       map[*config.Allowlist]*stopIndex
	regexes     map[*config.Allowlist]*regexSet // an allowlist's regexes, as RegexAllowed answers them
	paths       map[*config.Allowlist]*regexSet // its path regexes, as PathAllowed answers them
	scratch     sync.Pool
}

// New compiles the default, escapegate and policy rules.
func New(opts Options) (*Engine, error) {
	rules, globalSets, err := compileRules(opts.ExtraRulesTOML)
	if err != nil {
		return nil, err
	}
	e := &Engine{rules: rules, globalSets: globalSets}
	e.stops = map[*config.Allowlist]*stopIndex{}
	e.regexes = map[*config.Allowlist]*regexSet{}
	e.paths = map[*config.Allowlist]*regexSet{}
	for _, set := range globalSets {
		e.indexStopWords(set)
	}
	for i := range rules {
		e.indexStopWords(rules[i].allowlists)
	}
	kwIndex := map[string]int{}
	var kws []string
	var kwRules [][]int32 // keyword index → rules having that keyword
	for i := range rules {
		r := &rules[i]
		if r.re == nil {
			e.pathOnly = append(e.pathOnly, int32(i))
			continue
		}
		if r.path != nil || hasPathCheck(r.allowlists) {
			e.pathChecked = append(e.pathChecked, int32(i))
		}
		if len(r.keywords) == 0 {
			e.noKeyword = append(e.noKeyword, int32(i))
			continue
		}
		for _, k := range r.keywords {
			k = strings.ToLower(k)
			ki, ok := kwIndex[k]
			if !ok {
				ki = len(kws)
				kwIndex[k] = ki
				kws = append(kws, k)
				kwRules = append(kwRules, nil)
			}
			if l := kwRules[ki]; len(l) == 0 || l[len(l)-1] != int32(i) {
				kwRules[ki] = append(l, int32(i))
			}
		}
	}
	e.keywords = newKWMatcher(kws, kwRules)
	e.scratch.New = func() any { return &scratch{} }
	return e, nil
}

func (e *Engine) indexStopWords(als []*config.Allowlist) {
	for _, a := range als {
		if _, ok := e.stops[a]; !ok && len(a.StopWords) > 0 {
			e.stops[a] = newStopIndex(a.StopWords)
		}
		if _, ok := e.regexes[a]; !ok && len(a.Regexes) > 0 {
			e.regexes[a] = newRegexSet(a.Regexes)
		}
		if _, ok := e.paths[a]; !ok && len(a.Paths) > 0 {
			e.paths[a] = newRegexSet(a.Paths)
		}
	}
}

func hasPathCheck(als []*config.Allowlist) bool {
	for _, a := range als {
		if len(a.Paths) > 0 {
			return true
		}
	}
	return false
}

// Rules lists every rule, sorted by id.
func (e *Engine) Rules() []checks.RuleInfo {
	out := make([]checks.RuleInfo, 0, len(e.rules))
	for _, r := range e.rules {
		out = append(out, checks.RuleInfo{
			ID:          r.id,
			Category:    checks.CategorySecret,
			Severity:    r.severity,
			Description: r.description,
			Source:      r.source,
		})
	}
	return out
}

// scratch is the per-call working memory, pooled so that scanning allocates little
// per line.
type scratch struct {
	buf         []byte
	starts      []int     // start offset of each line in buf, plus len(buf) at the end
	cands       [][]int32 // per rule: block line indexes where one of its keywords occurs
	touched     []int32   // rules with candidates in this block
	skip        []bool    // per rule: not applicable to this file's path
	pathPending []bool    // per rule: its own path conditions are not evaluated yet for this file
	hits        []hit
	matches     [][]int // runRule's matches, reused
	drop        []bool
	path        string
	line        int // current line of the keyword walk
	engine      *Engine
	walk        func(end int, rules []int32)
	kwHeld      []kwHit // the keyword scan's scratch
}

// hit is one finding inside a block, before de-duplication.
type hit struct {
	rule                 int32
	secStart, secEnd     int // secret's offsets in the block
	matchStart, matchEnd int
	secret               string
	suppressedLine       int // block line index of the suppression marker, -1 when none
}

// ScanFile scans the added lines of one file. removed are the same file's removed
// lines (may be nil): a suppressed line whose identical text is among the removed
// lines was already on the base branch (SuppressedOnBase). The caller decides whether
// a suppression silences a finding.
func (e *Engine) ScanFile(fp checks.Fingerprinter, repo, path string, added, removed []diff.Line) []checks.Finding {
	return e.scan(fp, repo, path, added, removed, true)
}

// scan is ScanFile; tests turn de-duplication off to see every rule's own findings.
func (e *Engine) scan(fp checks.Fingerprinter, repo, path string, added, removed []diff.Line, dedupe bool) []checks.Finding {
	sc := e.scratch.Get().(*scratch)
	defer e.scratch.Put(sc)
	if !e.prepareFile(sc, path) {
		return nil
	}
	var out []checks.Finding
	for _, ri := range e.pathOnly {
		r := &e.rules[ri]
		if sc.skip[ri] || r.path == nil || !r.path.MatchString(path) {
			continue
		}
		line := 0
		if len(added) > 0 {
			line = added[0].No
		}
		out = append(out, checks.Finding{
			Rule: r.id, Category: checks.CategorySecret, Severity: r.severity, Path: path, Line: line,
			Message:     fmt.Sprintf("%s added: %s", r.name, path),
			Fingerprint: fp.Secret(repo, r.id, path), Fix: fixOf(r.id),
		})
	}
	var removedText map[string]bool // built on first need
	added, cuts := windows(added)
	var seen map[windowHit]bool // findings of windowed lines, once each
	for i := 0; i < len(added); {
		j, size := i+1, len(added[i].Text)
		for j < len(added) && added[j].No == added[j-1].No+1 && size < maxBlockBytes {
			size += len(added[j].Text) + 1
			j++
		}
		block := added[i:j]
		e.scanBlock(sc, block)
		if dedupe {
			e.dedupe(sc)
		}
		for _, h := range sc.hits {
			if cuts != nil && cutByWindow(sc, cuts, i, h) {
				continue // the window cut it: the neighbouring window holds it whole
			}
			f := e.finding(sc, fp, repo, path, block, h, removed, &removedText)
			if cuts != nil {
				k := windowHit{f.Line, f.Rule, f.Fingerprint}
				if seen[k] {
					continue // found again in the overlap of two windows
				}
				if seen == nil {
					seen = map[windowHit]bool{}
				}
				seen[k] = true
			}
			out = append(out, f)
		}
		i = j
	}
	return out
}

// windowCut says where a window of a long line was cut: at its start, its end.
type windowCut struct{ start, end bool }

type windowHit struct {
	line     int
	rule, fp string
}

// windows replaces each line longer than LineWindow by its overlapping windows, all with
// the line's number; cuts (nil when no line is that long) says per line of the result
// where it was cut.
func windows(added []diff.Line) ([]diff.Line, []windowCut) {
	long := false
	for _, l := range added {
		if len(l.Text) > LineWindow {
			long = true
			break
		}
	}
	if !long {
		return added, nil
	}
	var out []diff.Line
	var cuts []windowCut
	for _, l := range added {
		if len(l.Text) <= LineWindow {
			out = append(out, l)
			cuts = append(cuts, windowCut{})
			continue
		}
		for start := 0; ; start += LineWindow - LineOverlap {
			end := min(start+LineWindow, len(l.Text))
			out = append(out, diff.Line{No: l.No, Text: l.Text[start:end]})
			cuts = append(cuts, windowCut{start: start > 0, end: end < len(l.Text)})
			if end == len(l.Text) {
				break
			}
		}
	}
	return out, cuts
}

// cutByWindow reports whether a hit touches the cut of a window (its match starts at a
// window's cut start or ends at its cut end): the match may be part of a longer value,
// which the overlapping window holds whole.
func cutByWindow(sc *scratch, cuts []windowCut, first int, h hit) bool {
	ls, le := lineOf(sc.starts, h.matchStart), lineOf(sc.starts, h.matchEnd-1)
	if c := cuts[first+ls]; c.start && h.matchStart == sc.starts[ls] {
		return true
	}
	if c := cuts[first+le]; c.end && h.matchEnd >= sc.starts[le+1]-1 {
		return true
	}
	return false
}

// prepareFile decides which rules apply to path; false means none does (a global
// allowlist covers the path).
func (e *Engine) prepareFile(sc *scratch, path string) bool {
	if cap(sc.skip) < len(e.rules) {
		sc.skip = make([]bool, len(e.rules))
		sc.pathPending = make([]bool, len(e.rules))
		sc.cands = make([][]int32, len(e.rules))
	}
	sc.skip = sc.skip[:len(e.rules)]
	clear(sc.skip)
	if ownPathAllowed(path) {
		return false
	}
	sc.path = path
	// Rules share one of two global allowlists (defaults; defaults plus policy's):
	// evaluate each once per file.
	var setAllowed [2]bool
	for set := range e.globalSets {
		setAllowed[set] = e.pathOrCommitAllowed(path, e.globalSets[set])
	}
	any := false
	for i := range e.rules {
		if setAllowed[e.rules[i].globalSet] {
			sc.skip[i] = true
			continue
		}
		any = true
	}
	// Rules with their own path conditions are decided when they first have a
	// candidate line in this file (most never do).
	for _, ri := range e.pathChecked {
		sc.pathPending[ri] = !sc.skip[ri]
	}
	return any
}

// pathExcludes evaluates rule ri's own path conditions (its path pattern, its path
// allowlists) for the current file once, recording the answer in sc.skip.
func (e *Engine) pathExcludes(sc *scratch, ri int32) bool {
	r := &e.rules[ri]
	sc.pathPending[ri] = false
	if (r.path != nil && !r.path.MatchString(sc.path)) || e.pathOrCommitAllowed(sc.path, r.allowlists) {
		sc.skip[ri] = true
	}
	return sc.skip[ri]
}

// pathOrCommitAllowed follows gitleaks' checkCommitOrPathAllowed for a scan without
// commits: an OR allowlist allows a matching path; an AND allowlist only when all
// its (path, commit) checks pass and it has no regexes or stopwords to check later.
func (e *Engine) pathOrCommitAllowed(path string, als []*config.Allowlist) bool {
	if path == "" {
		return false
	}
	for _, a := range als {
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
				continue
			}
			if len(a.Commits) > 0 {
				continue // no commit in a diff scan: the commit check fails
			}
			if len(a.Paths) > 0 && e.pathAllowed(a, path) {
				return true
			}
			continue
		}
		if e.pathAllowed(a, path) {
			return true
		}
	}
	return false
}

// pathAllowed is a.PathAllowed(path), through the allowlist's regexSet of paths.
func (e *Engine) pathAllowed(a *config.Allowlist, path string) bool {
	if len(a.Paths) == 0 {
		return false
	}
	if set, ok := e.paths[a]; ok {
		return set.match(path)
	}
	return a.PathAllowed(path) // an allowlist New did not index
}

// scanBlock finds the secrets in a run of consecutive added lines; they land in sc.hits.
func (e *Engine) scanBlock(sc *scratch, block []diff.Line) {
	sc.buf, sc.starts, sc.hits = sc.buf[:0], sc.starts[:0], sc.hits[:0]
	for _, l := range block {
		sc.starts = append(sc.starts, len(sc.buf))
		sc.buf = append(sc.buf, l.Text...) // at most LineWindow: scan cut longer lines into windows
		sc.buf = append(sc.buf, '\n')      // lines end as in a file, so patterns that take \s or $ see the end
	}
	sc.starts = append(sc.starts, len(sc.buf))
	// One pass of the keyword automaton (ASCII case ignored) over the block marks
	// candidate lines per rule.
	for _, ri := range sc.touched {
		sc.cands[ri] = sc.cands[ri][:0]
	}
	sc.touched = sc.touched[:0]
	sc.line = 0
	if sc.walk == nil || sc.engine != e {
		sc.engine = e
		sc.walk = sc.onKeyword // bound once: a method value per block would allocate
	}
	e.keywords.scan(sc.buf, sc.walk, &sc.kwHeld)
	nLines := len(sc.starts) - 1
	for _, ri := range e.noKeyword {
		if !sc.skip[ri] && !(sc.pathPending[ri] && e.pathExcludes(sc, ri)) {
			e.runRule(sc, ri, 0, nLines-1)
		}
	}
	slices.Sort(sc.touched)
	for _, ri := range sc.touched {
		window := e.rules[ri].re.window()
		lo, hi := -1, -1
		for _, c := range sc.cands[ri] {
			l, w := int(c>>1), window*int(c&1)
			a, b := max(0, l-w), min(nLines-1, l+w)
			if lo >= 0 && a <= hi+1 {
				hi = max(hi, b)
				continue
			}
			if lo >= 0 {
				e.runRule(sc, ri, lo, hi)
			}
			lo, hi = a, b
		}
		if lo >= 0 {
			e.runRule(sc, ri, lo, hi)
		}
	}
}

// onKeyword marks the line of a keyword hit (keywords ending at offset end) as a
// candidate for the keywords' rules.
func (sc *scratch) onKeyword(end int, rules []int32) {
	e := sc.engine
	for end >= sc.starts[sc.line+1] {
		sc.line++
	}
	for _, ri := range rules {
		if sc.skip[ri] || (sc.pathPending[ri] && e.pathExcludes(sc, ri)) {
			continue
		}
		// A candidate is line<<1 | spill: spill says the match may reach the
		// neighbouring lines (only then does the rule's window apply).
		cand := int32(sc.line)<<1 | 1
		if pg := e.rules[ri].postGate; pg != nil {
			// Most hits fail the gate: the text up to stop is tried first, as a
			// match on the rest of the line alone is also one on that longer text
			// (postGates; TestPostGatesHoldOnLongerText).
			stop := min(len(sc.buf), end+1+postGateSpan)
			if !pg.Match(sc.buf[end+1 : stop]) {
				continue
			}
			if lineEnd := sc.starts[sc.line+1]; lineEnd >= stop || pg.Match(sc.buf[end+1:lineEnd]) {
				cand = int32(sc.line) << 1 // the keyword's own line can hold the match
			}
		}
		c := sc.cands[ri]
		if len(c) == 0 {
			sc.touched = append(sc.touched, ri)
		} else if last := c[len(c)-1]; last>>1 == cand>>1 {
			c[len(c)-1] |= cand & 1
			continue
		}
		sc.cands[ri] = append(c, cand)
	}
}

// runRule runs rule ri's regex over block lines lo..hi and keeps what gitleaks would
// report: the secret group (or first non-empty group), entropy above the rule's
// threshold, and no global or rule allowlist (regexes on secret, match or line,
// stopwords, AND/OR conditions).
func (e *Engine) runRule(sc *scratch, ri int32, lo, hi int) {
	r := &e.rules[ri]
	base := sc.starts[lo]
	text := sc.buf[base:sc.starts[hi+1]]
	if r.gate != nil && !r.gate.Match(text) || (r.lits != nil && !r.lits.mayMatch(text)) {
		return
	}
	var found [][]int
	lp := r.lazy.get()
	if lp != nil {
		found = lp.findAll(text, sc.matches[:0])
		sc.matches = found
	} else {
		found = r.re.FindAllIndex(text, -1)
	}
	for _, m := range found {
		ms, me := base+m[0], base+m[1]
		for ms < me && sc.buf[ms] == '\n' {
			ms++
		}
		for me > ms && sc.buf[me-1] == '\n' {
			me--
		}
		if ms == me {
			continue
		}
		ss, se := ms, me
		if r.numGroups(lp) > 0 {
			// As gitleaks does: groups come from matching the trimmed match alone.
			if g := r.groups(lp, sc.buf[ms:me]); g != nil {
				if r.secretGroup > 0 {
					if 2*r.secretGroup+1 < len(g) && g[2*r.secretGroup] >= 0 {
						ss, se = ms+g[2*r.secretGroup], ms+g[2*r.secretGroup+1]
					} else {
						ss, se = ms, ms
					}
				} else {
					for k := 1; 2*k+1 < len(g); k++ {
						if g[2*k] >= 0 && g[2*k+1] > g[2*k] {
							ss, se = ms+g[2*k], ms+g[2*k+1]
							break
						}
					}
				}
			}
		}
		if ss >= se {
			continue
		}
		secret := string(sc.buf[ss:se])
		if r.entropy != 0 && shannonEntropy(secret) <= r.entropy {
			continue
		}
		first, last := lineOf(sc.starts, ms), lineOf(sc.starts, me-1)
		lineText := string(sc.buf[sc.starts[first] : sc.starts[last+1]-1])
		match := string(sc.buf[ms:me])
		// Cheapest first; any of them drops the finding.
		if e.findingAllowed(sc.path, secret, match, lineText, r.globals, false) ||
			e.findingAllowed(sc.path, secret, match, lineText, r.allowlists, false) ||
			notASecret(r, secret, match, string(sc.buf[sc.starts[lineOf(sc.starts, ss)]:ss])) ||
			e.findingAllowed(sc.path, secret, match, lineText, r.globals, true) ||
			e.findingAllowed(sc.path, secret, match, lineText, r.allowlists, true) {
			continue
		}
		h := hit{rule: ri, secStart: ss, secEnd: se, matchStart: ms, matchEnd: me, secret: secret, suppressedLine: -1}
		for l := first; l <= last; l++ {
			t := sc.buf[sc.starts[l]:sc.starts[l+1]]
			if containsMarker(t) {
				h.suppressedLine = l
				break
			}
		}
		sc.hits = append(sc.hits, h)
	}
}

// numGroups is the rule's number of capture groups; lp (the rule's lazy prefix
// form, or nil) has the same, its prefix being a character class.
func (r *rule) numGroups(lp *lazyPrefix) int {
	if lp != nil {
		return lp.core.NumSubexp()
	}
	return r.re.NumSubexp()
}

// groups is the full pattern's FindSubmatchIndex(match) but for group 0 (the whole
// match, unused). With a lazy prefix form it is its core's: on any text the full
// pattern's leftmost match is the core's leftmost match extended back over the
// prefix's class (lazyprefix.go), and the prefix holds no group, so every other
// group's offsets are the core's.
func (r *rule) groups(lp *lazyPrefix, match []byte) []int {
	if lp != nil {
		return lp.core.FindSubmatchIndex(match)
	}
	return r.re.FindSubmatchIndex(match)
}

// findingAllowed follows gitleaks' checkFindingAllowed for a scan without commits
// (OR path allowlists were applied per file). It runs in two passes, whose order does
// not change the answer (any allowlist that allows suffices): costly false does the
// cheap checks (stopwords, and regexes on the secret of OR allowlists), costly true
// the rest (regexes on the match or the line, AND allowlists), so that most findings
// a cheap check allows never reach a regex over the whole match.
func (e *Engine) findingAllowed(path, secret, match, line string, als []*config.Allowlist, costly bool) bool {
	for _, a := range als {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		if a.MatchCondition == config.AllowlistMatchAnd {
			if !costly {
				continue
			}
			if len(a.Commits) > 0 {
				continue // no commit in a diff scan: the commit check fails
			}
			if len(a.Paths) > 0 && !e.pathAllowed(a, path) {
				continue
			}
			if len(a.StopWords) > 0 && !e.stopOK(a, secret) {
				continue
			}
			if len(a.Regexes) > 0 && !e.regexAllowed(a, target) {
				continue
			}
			return true
		}
		onSecret := a.RegexTarget != "match" && a.RegexTarget != "line"
		if !costly {
			if e.stopOK(a, secret) || (onSecret && e.regexAllowed(a, target)) {
				return true
			}
			continue
		}
		if !onSecret && e.regexAllowed(a, target) {
			return true
		}
	}
	return false
}

// regexAllowed is a.RegexAllowed(target), through the allowlist's regexSet.
func (e *Engine) regexAllowed(a *config.Allowlist, target string) bool {
	if set, ok := e.regexes[a]; ok {
		return set.match(target)
	}
	return a.RegexAllowed(target) // an allowlist New did not index
}

// stopOK reports whether secret holds one of a's stopwords (a.ContainsStopWord; its
// trie is not built, stopwords.go).
func (e *Engine) stopOK(a *config.Allowlist, secret string) bool {
	x := e.stops[a]
	return x != nil && x.contains(secret)
}

func containsMarker(b []byte) bool {
	s := string(b) // no copy: the compiler keeps this conversion in place for Contains
	return strings.Contains(s, MarkerGitleaks) || strings.Contains(s, MarkerEscapegate)
}

// lineOf is the block line index holding byte offset off.
func lineOf(starts []int, off int) int {
	return sort.Search(len(starts)-1, func(i int) bool { return starts[i+1] > off })
}

// dedupe keeps one finding per secret: when two rules find overlapping values on the
// same line, the more specific rule (a service's format over a token shape over a
// keyword heuristic) wins, then the longer value, then the lower rule id.
func (e *Engine) dedupe(sc *scratch) {
	hs := sc.hits
	if len(hs) < 2 {
		return
	}
	slices.SortFunc(hs, func(a, b hit) int {
		if a.secStart != b.secStart {
			return a.secStart - b.secStart
		}
		return int(a.rule - b.rule)
	})
	sc.drop = append(sc.drop[:0], make([]bool, len(hs))...)
	drop := sc.drop
	for i := range hs {
		if drop[i] {
			continue
		}
		li := lineOf(sc.starts, hs[i].secStart)
		for j := i + 1; j < len(hs) && hs[j].secStart < hs[i].secEnd; j++ {
			if drop[j] || lineOf(sc.starts, hs[j].secStart) != li {
				continue
			}
			if e.better(hs[j], hs[i]) {
				drop[i] = true
				break
			}
			drop[j] = true
		}
	}
	kept := hs[:0]
	for i, h := range hs {
		if !drop[i] {
			kept = append(kept, h)
		}
	}
	sc.hits = kept
}

func (e *Engine) better(a, b hit) bool {
	ra, rb := &e.rules[a.rule], &e.rules[b.rule]
	if ra.specificity != rb.specificity {
		return ra.specificity > rb.specificity
	}
	if la, lb := a.secEnd-a.secStart, b.secEnd-b.secStart; la != lb {
		return la > lb
	}
	return a.rule < b.rule
}

func (e *Engine) finding(sc *scratch, fp checks.Fingerprinter, repo, path string, block []diff.Line, h hit, removed []diff.Line, removedText *map[string]bool) checks.Finding {
	r := &e.rules[h.rule]
	first, last := lineOf(sc.starts, h.secStart), lineOf(sc.starts, h.secEnd-1)
	red := checks.RedactPrefix(h.secret, r.prefixOf(h.secret))
	f := checks.Finding{
		Rule:        r.id,
		Category:    checks.CategorySecret,
		Severity:    valueSeverity(r, h.secret),
		Path:        path,
		Line:        block[first].No,
		Message:     fmt.Sprintf("%s `%s`", r.name, red),
		Fingerprint: fp.Secret(repo, r.id, h.secret),
		Redacted:    red,
		Fix:         fixOf(r.id),
	}
	if last != first {
		f.EndLine = block[last].No
	}
	if h.suppressedLine >= 0 {
		f.Suppressed = true
		if *removedText == nil {
			*removedText = make(map[string]bool, len(removed))
			for _, l := range removed {
				(*removedText)[strings.TrimSpace(l.Text)] = true
			}
		}
		f.SuppressedOnBase = (*removedText)[strings.TrimSpace(block[h.suppressedLine].Text)]
	}
	return f
}
