package agents

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// riskyCommands run arbitrary code, reach the network, escalate, or run repository scripts
// when a prefix rule lets every invocation through.
var riskyCommands = map[string]bool{
	"python": true, "python3": true, "python2": true, "node": true, "deno": true, "bun": true, "ruby": true, "perl": true, "php": true,
	"npx": true, "bunx": true, "uvx": true, "pipx": true, "sh": true, "bash": true, "zsh": true, "fish": true, "pwsh": true, "powershell": true,
	"curl": true, "wget": true, "nc": true, "ncat": true, "sudo": true, "su": true, "doas": true, "docker": true, "podman": true, "kubectl": true,
	"eval": true, "exec": true, "xargs": true, "env": true, "ssh": true, "scp": true, "rsync": true, "aws": true, "gcloud": true, "az": true,
	"rm": true, "chmod": true, "chown": true, "dd": true,
}

// wholeToolRunners run any script of the repository when allowed as a whole (`npm:*`).
var wholeToolRunners = map[string]bool{"npm": true, "pnpm": true, "yarn": true, "composer": true, "make": true, "go": false, "cargo": false, "gh": false}

// egressCommands send data out of the runner.
var egressCommands = map[string]bool{"curl": true, "wget": true, "nc": true, "ncat": true, "ssh": true, "scp": true, "rsync": true}

// splitToolRule splits "Tool(spec)" into its tool and specifier.
func splitToolRule(s string) (tool, spec string, hasSpec bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1 : len(s)-1]), true
	}
	return s, "", false
}

// firstCommand is the command word of a command specifier ("curl:*" → curl, "python3 -m x" → python3).
func firstCommand(spec string) string {
	spec = strings.TrimSpace(spec)
	if i := strings.IndexAny(spec, " :"); i >= 0 {
		spec = spec[:i]
	}
	return pathBase(spec)
}

func pathBase(s string) string {
	if i := strings.LastIndexAny(s, "/\\"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// wildcardSpec is a specifier that matches everything.
func wildcardSpec(spec string) bool {
	switch strings.TrimSpace(spec) {
	case "", "*", ":*", "**", "* *":
		return true
	}
	return false
}

// wholeRunnerSpec is "npm:*" / "npm *": every subcommand of a script runner.
func wholeRunnerSpec(spec string) bool {
	cmd := firstCommand(spec)
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), cmd))
	return wholeToolRunners[cmd] && (rest == ":*" || rest == "*" || rest == "")
}

// claudeGrant judges one Claude Code allow rule; ok is false when the rule is narrow enough.
type claudeGrant struct {
	severity checks.Severity
	what     string
	scope    string
	breadth  int
	shellAll bool // unrestricted shell
	egress   bool // a downloader or remote shell
}

func judgeClaudeAllow(s string) (claudeGrant, bool) {
	tool, spec, hasSpec := splitToolRule(s)
	switch {
	case tool == "*":
		return claudeGrant{checks.SeverityHigh, "approves every tool", "*", 3, true, true}, true
	case tool == "Bash":
		if !hasSpec || wildcardSpec(spec) {
			return claudeGrant{checks.SeverityHigh, "approves every shell command", "Bash", 2, true, true}, true
		}
		cmd := firstCommand(spec)
		if riskyCommands[cmd] {
			return claudeGrant{checks.SeverityHigh, fmt.Sprintf("approves every `%s` command, which runs arbitrary code or reaches the network", cmd), "Bash", 1, false, egressCommands[cmd]}, true
		}
		if wholeRunnerSpec(spec) {
			return claudeGrant{checks.SeverityHigh, fmt.Sprintf("approves every `%s` subcommand, which runs any script of the repository", cmd), "Bash", 1, false, false}, true
		}
	case tool == "Edit" || tool == "Write" || tool == "MultiEdit" || tool == "NotebookEdit":
		if !hasSpec || wildcardSpec(spec) || spec == "/**" || spec == "//**" || spec == "~/**" || spec == "~/" {
			return claudeGrant{checks.SeverityHigh, "approves edits to any file the agent can reach", tool, 2, false, false}, true
		}
	case tool == "WebFetch":
		if !hasSpec || wildcardSpec(spec) {
			return claudeGrant{checks.SeverityLow, "fetches any URL", "WebFetch", 2, false, true}, false // egress only matters on untrusted triggers
		}
	case strings.HasPrefix(tool, "mcp__"):
		parts := strings.Split(strings.TrimPrefix(tool, "mcp__"), "__")
		if len(parts) == 1 || parts[1] == "*" || parts[1] == "" {
			return claudeGrant{checks.SeverityMedium, fmt.Sprintf("approves every tool of MCP server `%s`, including write and delete tools", parts[0]), "mcp__" + parts[0], 2, false, false}, true
		}
	}
	return claudeGrant{}, false
}

// claudeSettings checks a Claude Code settings object. projectScope lowers what Claude
// Code ignores when it comes from project or local settings.
func claudeSettings(r *report, root *node, p string, projectScope bool) {
	if root == nil || root.kind != mapNode {
		return
	}
	perms := root.get("permissions")
	for _, it := range perms.get("allow").list() {
		g, ok := judgeClaudeAllow(it.text())
		if !ok {
			continue
		}
		r.add(hit{rule: ruleCC1, severity: g.severity, line: it.line,
			setting: "permissions.allow " + it.text(), scope: "permissions.allow " + g.scope, breadth: g.breadth,
			message: fmt.Sprintf("Claude Code may run without asking: `%s` %s.", it.text(), g.what)})
	}
	ignored := ""
	sev := checks.SeverityHigh
	if projectScope {
		sev = checks.SeverityMedium
		ignored = " Claude Code reportedly ignores this in project and local settings, hence medium; it applies as soon as the file is copied to user settings or passed with --settings."
	}
	if m := perms.get("defaultMode"); m != nil {
		switch m.text() {
		case "bypassPermissions", "auto":
			r.add(hit{rule: ruleCC2, severity: sev, line: m.line, setting: "permissions.defaultMode " + m.text(),
				message: fmt.Sprintf("Claude Code `defaultMode: %s` runs tools without asking.%s", m.text(), ignored)})
		}
	}
	if s := root.get("skipDangerousModePermissionPrompt"); s.truthy() {
		r.add(hit{rule: ruleCC2, severity: sev, line: s.line, setting: "skipDangerousModePermissionPrompt true",
			message: "Claude Code `skipDangerousModePermissionPrompt: true` skips the warning before bypass mode." + ignored})
	}
	for _, d := range perms.get("additionalDirectories").list() {
		if broadDirectory(d.text()) {
			r.add(hit{rule: ruleCC3, severity: checks.SeverityHigh, line: d.line, setting: "permissions.additionalDirectories " + d.text(),
				message: fmt.Sprintf("Claude Code `additionalDirectories` opens `%s` to the agent: home files, SSH keys and cloud credentials become readable and, with edit rules, writable.", d.text())})
		}
	}
	if e := root.get("enableAllProjectMcpServers"); e.truthy() {
		r.add(hit{rule: ruleCC4, severity: checks.SeverityMedium, line: e.line, setting: "enableAllProjectMcpServers true",
			message: "Claude Code `enableAllProjectMcpServers: true` starts every server in .mcp.json without consent, including ones a later PR adds."})
	}
	if p != "" && pathBase(p) == "settings.local.json" {
		r.add(hit{rule: ruleCC5, severity: checks.SeverityLow, line: 1, setting: "committed settings.local.json",
			message: "`.claude/settings.local.json` holds personal approvals; committed, it grants them to every clone."})
	}
}

// broadDirectory is a directory grant that reaches beyond the project: root, home, dotfiles, system paths, parents.
func broadDirectory(d string) bool {
	d = strings.TrimSpace(d)
	if d == "" {
		return false
	}
	t := strings.TrimRight(d, "/\\")
	switch t {
	case "", "~", "$HOME", "${HOME}", "%USERPROFILE%", "/home", "/Users", "/root", "/etc", "/usr", "/var", "/opt", "C:", "c:", "..", "../..":
		return true
	}
	for _, pre := range []string{"~/.", "$HOME/.", "${HOME}/.", "/etc/", "/root/", "/var/", "/usr/", "../../"} {
		if strings.HasPrefix(t, pre) {
			return true
		}
	}
	return false
}
