// Package agents finds overbroad permissions granted to AI coding agents, MCP servers,
// agent frameworks and agent-running workflows in the files a change touches.
// It is pure: file contents in, findings out.
package agents

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

// fileKind says which tool's format a path holds.
type fileKind int

const (
	kindNone fileKind = iota
	kindClaude
	kindMCP
	kindMCPYAML
	kindCodex
	kindGemini
	kindGeminiPolicy
	kindCursor
	kindCopilotAgent
	kindAgenticWorkflow
	kindWorkflow
	kindAmazonQ
	kindAider
	kindGoose
	kindPython
	kindClaudeJSON
)

// classify maps a repository path to the format this detector reads there.
func classify(p string) fileKind {
	p = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(p, "\\", "/")), "/")
	base := path.Base(p)
	dir := path.Dir(p)
	parent := path.Base(dir)
	ext := path.Ext(base)
	switch {
	case parent == ".claude" && (base == "settings.json" || base == "settings.local.json"),
		base == "managed-settings.json":
		return kindClaude
	case (parent == "claude" || parent == "dot_claude") && (base == "settings.json" || base == "settings.local.json"):
		// A user-scope copy kept in a dotfiles repository (~/.config/claude, chezmoi's dot_claude).
		return kindClaude
	case base == ".claude.json":
		return kindClaudeJSON
	case base == ".mcp.json", base == "claude_desktop_config.json", strings.HasSuffix(base, "mcp_settings.json"),
		base == "mcp_config.json", base == "gemini-extension.json",
		base == "mcp.json" && dir == ".", // a project-level MCP config at the root (several clients read it)
		base == "mcp.json" && (parent == ".cursor" || parent == ".vscode" || parent == ".amazonq" || parent == ".roo" || parent == ".kiro" || parent == ".windsurf" ||
			strings.HasSuffix(dir, ".kiro/settings") || strings.HasSuffix(dir, ".gemini/extensions")):
		return kindMCP
	case strings.HasSuffix(dir, ".continue/mcpServers") || dir == ".continue/mcpServers":
		if ext == ".json" {
			return kindMCP
		}
		if ext == ".yaml" || ext == ".yml" {
			return kindMCPYAML
		}
	case (parent == ".codex" || parent == "dot_codex") && base == "config.toml":
		// dot_codex: chezmoi's name for ~/.codex in a dotfiles repository.
		return kindCodex
	case (parent == ".gemini" || parent == "dot_gemini") && base == "settings.json":
		return kindGemini
	case strings.HasSuffix(dir, ".gemini/policies") && ext == ".toml":
		return kindGeminiPolicy
	case parent == ".cursor" && (base == "cli.json" || base == "cli-config.json" || base == "permissions.json"):
		return kindCursor
	case strings.HasSuffix(dir, ".github/agents") && ext == ".md":
		return kindCopilotAgent
	case strings.HasSuffix(dir, ".github/workflows") && ext == ".md":
		return kindAgenticWorkflow
	case strings.HasSuffix(dir, ".github/workflows") && (ext == ".yml" || ext == ".yaml"):
		return kindWorkflow
	case (strings.HasSuffix(dir, ".amazonq/cli-agents") || strings.HasSuffix(dir, ".amazonq/agents") || strings.HasSuffix(dir, ".kiro/agents")) && ext == ".json":
		return kindAmazonQ
	case base == ".aider.conf.yml" || base == ".aider.conf.yaml":
		return kindAider
	case (parent == "goose" || parent == ".goose") && (base == "config.yaml" || base == "config.yml"):
		return kindGoose
	case ext == ".py":
		return kindPython
	}
	return kindNone
}

// claudeToolRule is an entry of a Claude Code permission list.
var claudeToolRule = regexp.MustCompile(`^(Bash|Edit|Write|MultiEdit|WebFetch|WebSearch|Read|Glob|Grep|NotebookEdit|Task|Skill|SlashCommand)(\(.*\))?$|^mcp__\w`)

// classifyContent recognises Claude Code settings kept at a path no tool reads them from
// (a dotfiles copy, a template): a JSON file that declares Claude Code's settings schema or
// whose permissions lists hold Claude Code rules. Such a file is meant to be installed as
// user settings or passed with --settings, so it is judged as user scope.
func classifyContent(p string, content []byte) fileKind {
	if path.Ext(p) != ".json" || len(content) == 0 || len(content) > 1<<20 {
		return kindNone
	}
	if !claudeRuleMentions.inBytes(content) {
		return kindNone
	}
	n, err := parseJSON(bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")))
	if err != nil || n == nil || n.kind != mapNode {
		return kindNone
	}
	if strings.Contains(n.get("$schema").text(), "claude-code-settings") {
		return kindClaude
	}
	perms := n.get("permissions")
	for _, key := range []string{"allow", "deny", "ask", "allowedTools"} {
		for _, it := range perms.get(key).list() {
			if claudeToolRule.MatchString(strings.TrimSpace(it.text())) {
				return kindClaude
			}
		}
	}
	return kindNone
}

// Wants reports whether path is a file this detector evaluates (so the caller fetches its content at head and base).
// added are the lines the change adds to it (Python files: only when an added line mentions an agent framework;
// other JSON files: only when an added line looks like Claude Code settings).
func Wants(path string, added []diff.Line) bool {
	switch classify(path) {
	case kindNone:
		return strings.HasSuffix(path, ".json") && claudeRuleMentions.anyLine(added)
	case kindPython:
		return frameworkMentions.anyLine(added)
	}
	return true
}

// hit is a finding before it becomes a checks.Finding: setting identifies the offending
// setting (for the fingerprint and the base comparison) independent of its line.
type hit struct {
	rule     string
	severity checks.Severity
	line     int
	setting  string
	message  string
	// scope and breadth let a broader grant at base cover a narrower one at head
	// (base Bash(*) covers head Bash(curl:*)); empty scope means exact match only.
	scope   string
	breadth int
}

// covers reports whether base hit b already grants at least what head hit h grants.
func (b hit) covers(h hit) bool {
	if b.rule != h.rule || b.severity.Rank() < h.severity.Rank() {
		return false
	}
	return b.setting == h.setting || (b.scope != "" && b.scope == h.scope && b.breadth > h.breadth)
}

// Evaluate evaluates the whole file at head. base is the file at the base branch, nil when new.
// Every finding at head is returned; Existing is set on a finding whose offending setting was already
// there at base with the same or wider power.
func Evaluate(fp checks.Fingerprinter, path string, head, base []byte) []checks.Finding {
	k := classify(path)
	if k == kindNone {
		k = classifyContent(path, head)
	}
	if k == kindNone {
		return nil
	}
	heads := safeScan(k, path, head)
	var bases []hit
	if base != nil {
		bases = safeScan(k, path, base)
	}
	out := make([]checks.Finding, 0, len(heads))
	for _, h := range heads {
		existing := false
		for _, b := range bases {
			if b.covers(h) {
				existing = true
				break
			}
		}
		r := ruleByID(h.rule)
		out = append(out, checks.Finding{
			Rule:        h.rule,
			Category:    checks.CategoryAgentPermission,
			Severity:    h.severity,
			Path:        path,
			Line:        h.line,
			Message:     h.message,
			Fingerprint: fp.Setting(h.rule, path, h.setting),
			Fix:         r.fix,
			OWASP:       append([]string(nil), r.owasp...),
			Existing:    existing,
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// safeScan is scan that never panics: a file that trips the evaluator is reported as unparseable.
func safeScan(k fileKind, p string, content []byte) (hits []hit) {
	defer func() {
		if rec := recover(); rec != nil {
			hits = []hit{{rule: ruleParse, severity: checks.SeverityHigh, line: 1, setting: "parse internal",
				message: "The file could not be evaluated; review its agent permissions by hand."}}
		}
	}()
	return scan(k, p, content)
}

// maxNesting bounds bracket nesting in JSON and TOML: tools reject such files anyway, and
// the parsers recurse once per level.
const maxNesting = 512

// scan runs the rules of one format over one version of a file.
func scan(k fileKind, p string, content []byte) []hit {
	var r report
	var err error
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark is accepted by every tool here
	if k != kindPython && k != kindCopilotAgent && k != kindAgenticWorkflow {
		if line, deep := tooDeep(content, maxNesting); deep {
			err = &parseError{line: line, msg: fmt.Sprintf("nested deeper than %d levels", maxNesting)}
			k = kindNone
		}
	}
	switch k {
	case kindClaude:
		err = withJSON(&r, content, func(n *node) { claudeSettings(&r, n, p, claudeProjectScope(p)) })
	case kindClaudeJSON:
		err = withJSON(&r, content, func(n *node) { claudeJSON(&r, n) })
	case kindMCP:
		err = withJSON(&r, content, func(n *node) { mcpFile(&r, n) })
	case kindMCPYAML:
		err = withYAML(&r, content, func(n *node) { mcpFile(&r, n) })
	case kindCodex:
		err = withTOML(&r, content, func(n *node) { codexConfig(&r, n) })
	case kindGemini:
		err = withJSON(&r, content, func(n *node) { geminiSettings(&r, n, true) })
	case kindGeminiPolicy:
		err = withTOML(&r, content, func(n *node) { geminiPolicy(&r, n) })
	case kindCursor:
		err = withJSON(&r, content, func(n *node) { cursorPermissions(&r, n) })
	case kindCopilotAgent:
		err = withFrontMatter(&r, content, func(n *node) { copilotAgent(&r, n) })
	case kindAgenticWorkflow:
		err = withFrontMatter(&r, content, func(n *node) { agenticWorkflow(&r, n) })
	case kindWorkflow:
		err = withYAML(&r, content, func(n *node) { workflow(&r, n) })
	case kindAmazonQ:
		err = withJSON(&r, content, func(n *node) { amazonQAgent(&r, n) })
	case kindAider:
		err = withYAML(&r, content, func(n *node) { aiderConfig(&r, n) })
	case kindGoose:
		err = withYAML(&r, content, func(n *node) { gooseConfig(&r, n) })
	case kindPython:
		pythonFrameworks(&r, content)
	}
	if err == nil && r.root != nil && k != kindWorkflow {
		secretSweep(&r, r.root, "", "")
	}
	var pe *parseError
	if errors.As(err, &pe) {
		r.add(hit{rule: ruleParse, severity: checks.SeverityHigh, line: pe.line,
			setting: "parse " + digits.ReplaceAllString(pe.msg, "#"),
			message: "The file does not parse, so its tool will not load it as written: " + pe.msg})
	}
	return r.hits
}

var digits = regexp.MustCompile(`\d+`)

func withJSON(r *report, b []byte, fn func(*node)) error {
	if jsonBlank(b) {
		return nil // an empty file (or only comments) grants nothing
	}
	n, err := parseJSON(b)
	if err == nil {
		r.root = n
		fn(n)
	}
	return err
}

func withYAML(r *report, b []byte, fn func(*node)) error {
	n, err := parseYAML(b, 0)
	if err == nil {
		r.root = n
		fn(n)
	}
	return err
}

func withTOML(r *report, b []byte, fn func(*node)) error {
	n, err := parseTOML(b)
	if err == nil {
		r.root = n
		fn(n)
	}
	return err
}

func withFrontMatter(r *report, b []byte, fn func(*node)) error {
	n, err := parseFrontMatter(b)
	if err == nil {
		r.root = n
		fn(n)
	}
	return err
}

// report collects hits, dropping a second hit of the same rule on the same setting.
type report struct {
	hits  []hit
	seen  map[string]bool
	root  *node          // the parsed file, for the credential sweep
	swept map[*node]bool // values already checked for credentials
}

func (r *report) add(h hit) {
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	// No literal credential may leave the evaluator, whatever a rule quotes.
	h.message = redactCredentials(h.message)
	h.setting = redactCredentials(h.setting)
	key := h.rule + "\x00" + h.setting
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	if h.line < 1 {
		h.line = 1
	}
	r.hits = append(r.hits, h)
}

// lineOf is n's line, or 1 when n is nil (a default the file does not write down).
func lineOf(n *node) int {
	if n == nil {
		return 1
	}
	return n.line
}
