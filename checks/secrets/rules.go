package secrets

import (
	"bytes"
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"

	"github.com/escapegate/escapegate/checks"
)

// Rule sources, as RuleInfo.Source shows them.
const (
	SourceGitleaks   = "gitleaks"
	SourceEscapegate = "escapegate"
	SourcePolicy     = "policy"
)

//go:embed escapegate.toml
var escapegateRulesTOML []byte

// rule is one compiled detector rule. Regexes are recompiled with Go's regexp from
// gitleaks' patterns so the engine does not depend on gitleaks' build tag.
type rule struct {
	id, description, source string
	name                    string         // short human name for messages ("GitHub personal access token")
	re                      *lazyRE        // compiled on first use
	lazy                    *lazySlot      // nil, or re may run without its lazy prefix (same matches, faster)
	lits                    *litCheck      // nil, or literals one of which a match of re holds
	gate                    *regexp.Regexp // nil, or a necessary condition cheaper than re
	postGate                textGate       // nil, or a necessary condition on the text after a keyword
	path                    *regexp.Regexp
	secretGroup             int
	entropy                 float64
	keywords                []string
	allowlists              []*config.Allowlist // the rule's own
	globals                 []*config.Allowlist // the global allowlists that apply to it
	globalSet               int                 // index of globals in Engine.globalSets
	severity                checks.Severity
	specificity             int // higher wins when two rules find the same secret
}

// blockRules get a wide window: their matches are whole blocks (key files, manifests).
var blockRules = map[string]int{
	"private-key":            maxBlockLines,
	"kubernetes-secret-yaml": 120,
	"curl-auth-header":       6, // curl \ continuation lines: -H or -u a few lines below "curl"
	"curl-auth-user":         6,
	"freemius-secret-key":    8, // a PHP array literal spanning lines
}

// gates are cheaper necessary conditions for costly rules: a window where the gate
// does not match cannot hold a match of the rule, so its regex does not run there.
// generic-api-key's gate is its pattern without the lazy 50-character prefix and
// with the value cut to its first 10 characters (TestGatesAreNecessary checks it).
var gates = map[string]string{
	"vault-service-token": `s\.[\w-]{24}`, // a literal prefix: Go's regexp skips to it with a fast search
}

// postGates are anchored necessary conditions on the text right after a keyword hit:
// a hit they reject does not make its line a candidate. generic-api-key's is its
// pattern after the keyword, where the value is either a run of 10 to 150 value
// characters that ends as the pattern's value must (a quote, space, ';', \n or the
// end of the text: a value cut by postGateSpan passes) or the first 12 characters of
// the pattern's other value form (TestGatesAreNecessary checks both kinds). Code
// such as `token := strings.TrimSpace(s)` fails it: the value is followed by '('.
var postGates = map[string]string{
	"generic-api-key": `^(?i)[ \t\w.-]{0,20}[\s'"]{0,3}(?:=|>|:{1,3}=|\|\||:|=>|\?=|,)[\x60'"\s=]{0,5}(?:[\w.=+/-]{10,150}(?:[\x60'"\s;]|\\[nr]|$)|[a-z0-9][a-z0-9+/]{11})`,
	// escapegate's assignment rules: the rest of the name (at most 30 characters after a
	// keyword: "pass" of passphrase plus the pattern's 20), an operator, and the start of
	// a quoted value or an unquoted value that ends as the pattern's must.
	"escapegate-password-assignment": assignmentPostGate,
	"escapegate-secret-assignment":   assignmentPostGate,
}

// runPostGates are post gates that need a run of bytes of a set right after the
// keyword, checked byte by byte: vault-service-token's keyword "s." (also the end of
// "hvs.") is in nearly every line of code (os., this.), and a regex per hit cost more
// than the rule's own regex over the lines they made candidates. After either keyword
// a match holds 24 runes of (?i)[a-z0-9] (ASCII, or under Go's case folding ſ and the
// Kelvin sign, which are several bytes each) or 90 of [\w-]: 24 bytes that are [\w-]
// or part of a multi-byte rune.
var runPostGates = map[string]byteRun{
	"vault-service-token": {set: wordDashOrNonASCII(), n: 24},
}

// textGate is a post gate: a regex, or a byteRun.
type textGate interface {
	Match(b []byte) bool
	MatchString(s string) bool
}

// byteRun is a gate that needs n bytes of set at the start of the text.
type byteRun struct {
	set *[256]bool
	n   int
}

func (g byteRun) Match(b []byte) bool {
	if len(b) < g.n {
		return false
	}
	for _, c := range b[:g.n] {
		if !g.set[c] {
			return false
		}
	}
	return true
}

func (g byteRun) MatchString(s string) bool {
	if len(s) < g.n {
		return false
	}
	for i := 0; i < g.n; i++ {
		if !g.set[s[i]] {
			return false
		}
	}
	return true
}

func wordDashOrNonASCII() *[256]bool {
	var set [256]bool
	for c := range 256 {
		b := byte(c)
		set[c] = b >= 0x80 || b == '_' || b == '-' || ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z')
	}
	return &set
}

const assignmentPostGate = `^(?i)[\w.-]{0,30}(?:\\?["'])?[ \t]*(?:=|:|=>|\?=)[ \t]*(?:\\?["'\x60][^\s"'\x60\\]|[^\s"'\x60,;(){}<>\[\]]+(?:[\s,;]|$))`

// postGateSpan is how much text after a keyword a post gate sees; it covers the
// longest prefix a post gate needs (20+3+3+5+10 bytes).
const postGateSpan = 64

const (
	maxBlockLines = 400 // a 16k-bit RSA key in PEM is about 200 lines
	defaultWindow = 1   // lines a bounded multi-line match (value on the next line of an XML tag) may reach
)

// loadConfig decodes gitleaks-format TOML with gitleaks' own loader (a private viper
// instance, never the global one). [extend] is ignored: defaults always apply and
// are never replaced. patterns maps each rule with a regex to its pattern.
//
// builtin is for the rule sets compiled into escapegate (gitleaks' defaults, its
// own): gitleaks' loader would compile each regex only for the engine to compile it
// again with (?m) (about 40% of New once the engine's own compile became lazy), so
// their patterns are kept aside and the loader sees a placeholder with as many groups
// as the rule's secretGroup, which passes its checks; TestLazyRulesCompile checks
// what the loader no longer checks for them (each compiles, secretGroup exists).
// Policy rules go through the loader in full, so a bad one fails the load.
func loadConfig(data []byte, builtin bool) (_ config.Config, patterns map[string]string, err error) {
	// gitleaks compiles patterns with MustCompile: a bad pattern in policy is an error here, not a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rules TOML: %v", r)
		}
	}()
	vc, err := decodeRulesTOML(data, builtin)
	if err != nil {
		return config.Config{}, nil, err
	}
	vc.Extend = config.Extend{}
	for _, r := range vc.Rules {
		if len(r.Required) > 0 {
			return config.Config{}, nil, fmt.Errorf("rule %q: composite rules ([[rules.required]]) are not supported", r.ID)
		}
	}
	// Stopwords skip gitleaks' trie (stopwords.go).
	var saved [][]string
	for i := range vc.Rules {
		if a := vc.Rules[i].AllowList; a != nil {
			hideStopWords(&a.StopWords, &saved)
		}
		for _, a := range vc.Rules[i].Allowlists {
			hideStopWords(&a.StopWords, &saved)
		}
	}
	if a := vc.AllowList; a != nil {
		hideStopWords(&a.StopWords, &saved)
	}
	for _, a := range vc.Allowlists {
		hideStopWords(&a.StopWords, &saved)
	}
	patterns = map[string]string{}
	for i := range vc.Rules {
		if r := &vc.Rules[i]; r.Regex != "" && builtin {
			patterns[r.ID] = r.Regex
			r.Regex = "(?:)" + strings.Repeat("()", max(r.SecretGroup, 0))
		}
	}
	c, err := vc.Translate()
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("translating rules: %w", err)
	}
	if err := restoreStopWords(c.Allowlists, saved); err != nil {
		return config.Config{}, nil, err
	}
	for _, r := range c.Rules {
		if err := restoreStopWords(r.Allowlists, saved); err != nil {
			return config.Config{}, nil, err
		}
	}
	if !builtin {
		for id, r := range c.Rules {
			if r.Regex != nil {
				patterns[id] = r.Regex.String()
			}
		}
	}
	return c, patterns, nil
}

// decodeRulesTOML decodes rules TOML into gitleaks' ViperConfig. Policy files go
// through viper, as gitleaks reads a config (its weak typing and key rules included);
// the built-in files, which escapegate ships and tests, are decoded by go-toml
// directly: viper's map-and-reflect decoding was the largest part of New, which
// every scan process pays before its first line. TestBuiltinRulesDecodeAsViper
// checks that both decoders agree on them.
func decodeRulesTOML(data []byte, builtin bool) (config.ViperConfig, error) {
	var vc config.ViperConfig
	if builtin {
		if err := toml.Unmarshal(data, &vc); err != nil {
			return vc, fmt.Errorf("decoding rules TOML: %w", err)
		}
		return vc, nil
	}
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return vc, fmt.Errorf("reading rules TOML: %w", err)
	}
	if err := v.Unmarshal(&vc); err != nil {
		return vc, fmt.Errorf("decoding rules TOML: %w", err)
	}
	return vc, nil
}

// compileRules builds the engine's rules: gitleaks' defaults, escapegate's own, then
// policy rules, which may add but never replace or loosen the others.
func compileRules(policyTOML []byte) ([]rule, [][]*config.Allowlist, error) {
	defaults, defaultPatterns, err := loadConfig([]byte(config.DefaultConfig), true)
	if err != nil {
		return nil, nil, fmt.Errorf("gitleaks default rules: %w", err)
	}
	own, ownPatterns, err := loadConfig(escapegateRulesTOML, true)
	if err != nil {
		return nil, nil, fmt.Errorf("escapegate rules: %w", err)
	}
	var rules []rule
	seen := map[string]string{}
	var globalSets [][]*config.Allowlist
	add := func(c config.Config, patterns map[string]string, source string, globals []*config.Allowlist) error {
		if len(globalSets) == 0 || source == SourcePolicy {
			globalSets = append(globalSets, globals)
		}
		set := len(globalSets) - 1
		for _, id := range c.OrderedRules {
			r := c.Rules[id]
			if prev, dup := seen[id]; dup {
				return fmt.Errorf("rule %q from %s: a %s rule has this id (policy rules add to the defaults, they cannot replace them)", id, source, prev)
			}
			seen[id] = source
			if r.SkipReport {
				continue // only meaningful as a required part of a composite rule
			}
			cr, err := compileRule(r, patterns[id], source, globals)
			if err != nil {
				return err
			}
			cr.globalSet = set
			rules = append(rules, cr)
		}
		return nil
	}
	if err := add(defaults, defaultPatterns, SourceGitleaks, defaults.Allowlists); err != nil {
		return nil, nil, err
	}
	if err := add(own, ownPatterns, SourceEscapegate, defaults.Allowlists); err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(policyTOML)) > 0 {
		policy, policyPatterns, err := loadConfig(policyTOML, false)
		if err != nil {
			return nil, nil, fmt.Errorf("policy rules: %w", err)
		}
		// Policy's global allowlists apply to policy rules only: they cannot silence defaults.
		globals := append(append([]*config.Allowlist(nil), defaults.Allowlists...), policy.Allowlists...)
		if err := add(policy, policyPatterns, SourcePolicy, globals); err != nil {
			return nil, nil, err
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].id < rules[j].id })
	return rules, globalSets, nil
}

// compileRule builds one rule; pattern is its regex's source ("" for a path-only rule).
func compileRule(r config.Rule, pattern, source string, globals []*config.Allowlist) (rule, error) {
	cr := rule{
		id:          r.RuleID,
		description: r.Description,
		source:      source,
		secretGroup: r.SecretGroup,
		entropy:     r.Entropy,
		keywords:    r.Keywords,
		allowlists:  r.Allowlists,
		globals:     globals,
		severity:    severityOf(r.RuleID, r.Tags),
		specificity: specificityOf(r.RuleID),
		name:        nameOf(r.RuleID),
	}
	var err error
	if pattern != "" {
		// (?m): $ and ^ also match at line ends, so a value at the end of a line in a
		// file is found as it is when alone (gitleaks' fragments end where the file does).
		cr.re = newLazyRE(r.RuleID, pattern, r.Keywords)
		p := cr.re.String()
		if f, ok := builtinFacts[keyOf(r.RuleID, p, r.Keywords)]; ok && source != SourcePolicy {
			cr.lits = presetLitCheck(f.lits, f.also)
			cr.re.presetWindow(f.window)
			if f.lazy != nil {
				cr.lazy = &lazySlot{pattern: p, form: f.lazy}
			}
		} else {
			cr.lits = &litCheck{pattern: p}
			if mayHaveLazyPrefix(p) {
				cr.lazy = &lazySlot{pattern: p}
			}
		}
		if g, ok := gates[r.RuleID]; ok && source == SourceGitleaks {
			cr.gate = regexp.MustCompile(g)
		}
		if g, ok := postGates[r.RuleID]; ok && source != SourcePolicy {
			cr.postGate = regexp.MustCompile(g)
		} else if g, ok := runPostGates[r.RuleID]; ok && source == SourceGitleaks {
			cr.postGate = g
		}
	}
	if r.Path != nil {
		if cr.path, err = regexp.Compile(r.Path.String()); err != nil {
			return rule{}, fmt.Errorf("rule %q: path: %w", r.RuleID, err)
		}
	}
	return cr, nil
}

// windowOf is how many added lines around a keyword hit the rule's regex runs on:
// no more than its pattern can span, and at least one when the keyword need not be
// part of the match (a keyword on the line before its value: <apiKey>\n value).
func windowOf(id, pattern string, keywords []string) int {
	if w, ok := blockRules[id]; ok {
		return w
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return defaultWindow
	}
	n := innerNewlines(re.Simplify())
	if n < 0 || n > defaultWindow {
		n = defaultWindow
	}
	if !keywordsInPattern(pattern, keywords) {
		n = max(n, 1)
	}
	return n
}

// keywordsInPattern reports whether every keyword is spelled in the pattern, so a
// match (almost always) contains the keyword that made the line a candidate.
func keywordsInPattern(pattern string, keywords []string) bool {
	p := strings.ToLower(strings.ReplaceAll(pattern, `\`, ""))
	for _, k := range keywords {
		if !strings.Contains(p, k) {
			return false
		}
	}
	return true
}

// innerNewlines is maxNewlines without the pattern's last element when that is one
// character wide: a trailing [\s;] that takes a line's own newline needs no next line.
func innerNewlines(re *syntax.Regexp) int {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpConcat || len(re.Sub) == 0 || !singleChar(re.Sub[len(re.Sub)-1]) {
		return maxNewlines(re)
	}
	return maxNewlines(&syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[:len(re.Sub)-1]})
}

// singleChar reports whether re matches at most one character.
func singleChar(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL, syntax.OpEmptyMatch,
		syntax.OpEndLine, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	case syntax.OpLiteral:
		return len(re.Rune) <= 1
	case syntax.OpCapture, syntax.OpQuest:
		return singleChar(re.Sub[0])
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !singleChar(s) && maxNewlines(s) != 0 {
				return false // a multi-character branch that can hold a newline
			}
		}
		return true
	}
	return false
}

// maxNewlines bounds the newlines a match of re can hold; -1 means unbounded.
func maxNewlines(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return strings.Count(string(re.Rune), "\n")
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return 1
			}
		}
		return 0
	case syntax.OpAnyChar:
		return 1
	case syntax.OpCapture:
		return maxNewlines(re.Sub[0])
	case syntax.OpConcat:
		total := 0
		for _, s := range re.Sub {
			n := maxNewlines(s)
			if n < 0 {
				return -1
			}
			total += n
		}
		return total
	case syntax.OpAlternate:
		most := 0
		for _, s := range re.Sub {
			n := maxNewlines(s)
			if n < 0 {
				return -1
			}
			most = max(most, n)
		}
		return most
	case syntax.OpQuest:
		return maxNewlines(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if maxNewlines(re.Sub[0]) != 0 {
			return -1
		}
		return 0
	case syntax.OpRepeat:
		n := maxNewlines(re.Sub[0])
		if n == 0 {
			return 0
		}
		if n < 0 || re.Max < 0 {
			return -1
		}
		return n * re.Max
	}
	return 0
}

// severityOf applies the severity policy (docs/secret-rules.md): a tag
// "severity:<level>" wins; otherwise live credentials of real services are critical.
func severityOf(id string, tags []string) checks.Severity {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, "severity:"); ok {
			if s, err := checks.ParseSeverity(v); err == nil {
				return s
			}
		}
	}
	if s, ok := gitleaksSeverity[id]; ok {
		return s
	}
	return checks.SeverityCritical
}

// gitleaksSeverity lowers gitleaks rules that are not live credentials on their own.
var gitleaksSeverity = map[string]checks.Severity{
	// Heuristics: keyword plus entropy, not a known credential format.
	"generic-api-key":        checks.SeverityHigh,
	"curl-auth-header":       checks.SeverityHigh,
	"curl-auth-user":         checks.SeverityHigh,
	"jwt":                    checks.SeverityHigh,
	"jwt-base64":             checks.SeverityHigh,
	"kubernetes-secret-yaml": checks.SeverityHigh,
	"sidekiq-sensitive-url":  checks.SeverityHigh,
	// Identifiers: half of a credential pair, useless without the secret half.
	"adobe-client-id":                  checks.SeverityMedium,
	"asana-client-id":                  checks.SeverityMedium,
	"bitbucket-client-id":              checks.SeverityMedium,
	"discord-client-id":                checks.SeverityMedium,
	"linkedin-client-id":               checks.SeverityMedium,
	"looker-client-id":                 checks.SeverityMedium,
	"messagebird-client-id":            checks.SeverityMedium,
	"plaid-client-id":                  checks.SeverityMedium,
	"sendbird-access-id":               checks.SeverityMedium,
	"sumologic-access-id":              checks.SeverityMedium,
	"new-relic-user-api-id":            checks.SeverityMedium,
	"alibaba-access-key-id":            checks.SeverityMedium,
	"gitlab-feature-flag-client-token": checks.SeverityMedium,
	// Publishable keys and test-mode keys.
	"flutterwave-public-key":      checks.SeverityLow,
	"lob-pub-api-key":             checks.SeverityLow,
	"mailgun-pub-key":             checks.SeverityLow,
	"new-relic-browser-api-token": checks.SeverityLow,
	"easypost-test-api-token":     checks.SeverityLow,
}

// valueSeverity refines a rule's severity from the value found: test-mode keys of
// payment providers are not live credentials.
func valueSeverity(r *rule, secret string) checks.Severity {
	switch r.id {
	case "stripe-access-token":
		if strings.Contains(secret, "_test_") {
			return checks.SeverityMedium
		}
	case "flutterwave-secret-key", "flutterwave-encryption-key":
		if strings.Contains(secret, "_TEST") || strings.Contains(secret, "TEST-") {
			return checks.SeverityMedium
		}
	}
	return r.severity
}

// specificityOf ranks rules for de-duplication: a service's own format beats a
// token shape (JWT, curl header), which beats a keyword-and-entropy heuristic.
func specificityOf(id string) int {
	switch id {
	case "generic-api-key", "escapegate-password-assignment", "escapegate-secret-assignment":
		return 0
	case "jwt", "jwt-base64", "curl-auth-header", "curl-auth-user", "kubernetes-secret-yaml":
		return 1
	}
	return 2
}
