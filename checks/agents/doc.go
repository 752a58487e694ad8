package agents

import (
	"fmt"
	"strings"
)

// RulesMarkdown renders docs/agent-rules.md: every rule with its id, severity, OWASP ids,
// what it flags, a failing example and the fix. A test keeps the committed file in step.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Agent-permission rules\n\n")
	b.WriteString("Generated from `checks/agents` (`RulesMarkdown`); `go test ./checks/agents` fails when this file is stale.\n")
	b.WriteString("Regenerate with `ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/agents -run TestRulesDoc`.\n\n")
	b.WriteString("A permission file that a pull request adds or changes is evaluated whole at the head; a finding fails the\n")
	b.WriteString("check only when its setting is new or wider than on the base branch. Settings that the tool ignores in\n")
	b.WriteString("project scope are still reported, at a lower severity, and the message says so.\n\n")
	b.WriteString("OWASP ids: NHI = Non-Human Identities Top 10 2025, LLM = LLM Top 10 2025, ASI = Agentic Top 10 2026.\n\n")
	b.WriteString("| rule | severity | OWASP |\n|---|---|---|\n")
	for _, r := range catalog {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.id, strings.ToLower(r.id), r.severity, owaspText(r.owasp))
	}
	for _, r := range catalog {
		fmt.Fprintf(&b, "\n## %s\n\n", r.id)
		fmt.Fprintf(&b, "- **Severity:** %s\n- **OWASP:** %s\n\n", r.severity, owaspText(r.owasp))
		fmt.Fprintf(&b, "%s\n\n", r.description)
		fmt.Fprintf(&b, "Failing example (`%s`):\n\n```%s\n%s```\n\n", r.examplePath, fence(r.examplePath), r.example)
		fmt.Fprintf(&b, "**Fix:** %s\n", r.fix)
	}
	return b.String()
}

func owaspText(ids []string) string {
	if len(ids) == 0 {
		return "n/a (the file cannot be evaluated)"
	}
	return strings.Join(ids, ", ")
}

func fence(p string) string {
	switch {
	case strings.HasSuffix(p, ".json"):
		return "jsonc"
	case strings.HasSuffix(p, ".toml"):
		return "toml"
	case strings.HasSuffix(p, ".yml"), strings.HasSuffix(p, ".yaml"):
		return "yaml"
	case strings.HasSuffix(p, ".py"):
		return "python"
	case strings.HasSuffix(p, ".md"):
		return "markdown"
	}
	return ""
}
