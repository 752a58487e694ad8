package output

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// The SARIF written here is the subset GitHub code scanning reads, typed by
// hand so no field is emitted that would mean something else (a generic
// builder writes "rank": 0, "lowest priority", on every result). Tests validate
// it against the SARIF 2.1.0 schema.

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	toolName     = "escapegate"
	toolURI      = "https://github.com/escapegate/escapegate"
	// FingerprintKey names escapegate's keyed fingerprint in partialFingerprints,
	// so code scanning matches a finding across runs by the same identity the app uses.
	FingerprintKey = "escapegateFingerprint/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	ShortDescription     sarifMessage      `json:"shortDescription"`
	FullDescription      sarifMessage      `json:"fullDescription"`
	Help                 sarifMessage      `json:"help"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProperty `json:"properties"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

// sarifRuleProperty holds the properties GitHub reads: tags, precision, and
// security-severity, a number in a string that code scanning maps to
// critical (> 9.0), high (7.0–8.9), medium (4.0–6.9) or low (0.1–3.9).
type sarifRuleProperty struct {
	Tags             []string `json:"tags"`
	Precision        string   `json:"precision"`
	SecuritySeverity string   `json:"security-severity"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	BaselineState       string             `json:"baselineState,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
	EndLine   int `json:"endLine,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// SecuritySeverity is the code scanning score given to each severity, in the
// middle of the band GitHub maps back to the same word.
func SecuritySeverity(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical:
		return "9.5"
	case checks.SeverityHigh:
		return "8.0"
	case checks.SeverityMedium:
		return "5.5"
	}
	return "2.0"
}

// sarifLevel maps a severity to SARIF's level: what fails the build is an error.
func sarifLevel(s checks.Severity) string {
	switch s {
	case checks.SeverityCritical, checks.SeverityHigh:
		return "error"
	case checks.SeverityMedium:
		return "warning"
	}
	return "note"
}

// SARIF writes a SARIF 2.1.0 log with one run: the rules (those given, in
// order, then any rule a finding names that was not given) and one result per
// finding. toolVersion goes to tool.driver.version when not empty.
func SARIF(w io.Writer, findings []checks.Finding, rules []checks.RuleInfo, toolVersion string) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: toolName, Version: toolVersion, InformationURI: toolURI, Rules: []sarifRule{},
		}},
		Results: []sarifResult{},
	}
	index := map[string]int{}
	fixes := ruleFixes(findings)
	addRule := func(ri checks.RuleInfo) {
		if _, ok := index[ri.ID]; ok {
			return
		}
		index[ri.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleFor(ri, fixes[ri.ID]))
	}
	for _, ri := range rules {
		addRule(ri)
	}
	for _, f := range findings {
		if _, ok := index[f.Rule]; !ok {
			addRule(checks.RuleInfo{ID: f.Rule, Category: f.Category, Severity: f.Severity, Description: f.Message, OWASP: f.OWASP})
		}
		run.Results = append(run.Results, sarifResultFor(f, index[f.Rule]))
	}

	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write SARIF: %w", err)
	}
	return nil
}

// ruleFixes returns, per rule, the fix text when every finding of the rule has
// the same one; findings whose fixes differ keep them in their own message.
func ruleFixes(findings []checks.Finding) map[string]string {
	fix := map[string]string{}
	mixed := map[string]bool{}
	for _, f := range findings {
		t := strings.TrimSpace(f.Fix)
		if prev, ok := fix[f.Rule]; ok && prev != t {
			mixed[f.Rule] = true
		}
		fix[f.Rule] = t
	}
	for r := range mixed {
		delete(fix, r)
	}
	return fix
}

func sarifRuleFor(ri checks.RuleInfo, fix string) sarifRule {
	desc := strings.TrimSpace(ri.Description)
	if desc == "" {
		desc = ri.ID
	}
	text, md := desc, desc
	if len(ri.OWASP) > 0 {
		ids := strings.Join(ri.OWASP, ", ")
		text += "\n\nOWASP: " + ids + "."
		md += "\n\n**OWASP:** " + ids + "."
	}
	if fix != "" {
		text += "\n\nHow to fix: " + fix
		md += "\n\n**How to fix.** " + fix
	}
	tags := []string{"security"}
	if ri.Category != "" {
		tags = append(tags, string(ri.Category))
	}
	for _, id := range ri.OWASP {
		tags = append(tags, "external/owasp/"+strings.ToLower(id))
	}
	sev := ri.Severity
	if sev.Rank() == 0 {
		sev = checks.SeverityCritical // an unknown rule's findings are treated as the worst case
	}
	return sarifRule{
		ID:                   ri.ID,
		ShortDescription:     sarifMessage{Text: firstSentence(desc)},
		FullDescription:      sarifMessage{Text: desc},
		Help:                 sarifMessage{Text: text, Markdown: md},
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(sev)},
		Properties:           sarifRuleProperty{Tags: tags, Precision: "high", SecuritySeverity: SecuritySeverity(sev)},
	}
}

// firstSentence keeps shortDescription short, as code scanning shows it as a title.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

func sarifResultFor(f checks.Finding, ruleIndex int) sarifResult {
	msg := f.Message
	if msg == "" {
		msg = f.Rule
	}
	if f.Redacted != "" {
		msg += " (" + f.Redacted + ")"
	}
	if f.Fix != "" {
		msg += ". How to fix: " + strings.TrimSpace(f.Fix)
	}
	start := max(f.Line, 1)
	region := sarifRegion{StartLine: start}
	if f.EndLine > start {
		region.EndLine = f.EndLine
	}
	r := sarifResult{
		RuleID: f.Rule, RuleIndex: ruleIndex, Level: sarifLevel(f.Severity),
		Message: sarifMessage{Text: msg},
		Locations: []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{
			ArtifactLocation: sarifArtifactLocation{URI: relativeURI(f.Path), URIBaseID: "%SRCROOT%"},
			Region:           region,
		}}},
	}
	if f.Fingerprint != "" {
		r.PartialFingerprints = map[string]string{FingerprintKey: f.Fingerprint}
	}
	if f.Existing {
		r.BaselineState = "unchanged"
	}
	if f.Suppressed {
		just := "inline suppression added by this change"
		if f.SuppressedOnBase {
			just = "inline suppression already on the base branch"
		}
		r.Suppressions = []sarifSuppression{{Kind: "inSource", Justification: just}}
	}
	return r
}

// relativeURI turns a repository path into a relative URI reference: each
// segment percent-encoded, and ':' encoded too so a segment never reads as a scheme.
func relativeURI(path string) string {
	segs := strings.Split(strings.TrimPrefix(strings.ReplaceAll(path, `\`, "/"), "/"), "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}
