package agents

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// riskyCommands are interpreters and runners: dangerous with free arguments unless a fixed
// script, module or package follows (`python3 *` runs anything, `python -m pytest *` does not).
var riskyCommands = map[string]bool{
	"python": true, "python3": true, "python2": true, "node": true, "deno": true, "bun": true, "ruby": true, "perl": true, "php": true,
	"npx": true, "bunx": true, "uvx": true, "pipx": true, "sh": true, "bash": true, "zsh": true, "fish": true, "pwsh": true, "powershell": true,
	"kubectl": true, "aws": true, "gcloud": true, "az": true,
}

// riskyPrefix judges a command prefix after which anything may follow (the fixed part of
// `Bash(curl:*)`, a Gemini `run_shell_command(python3)`, a Cursor `Shell(node)`) through the
// capability table (capabilities.go): it returns the command judged and whether that
// argument space runs arbitrary code, writes outside the workspace or reaches any host.
func riskyPrefix(prefix string) (string, bool) {
	c := commandSpace(strings.Fields(strings.TrimSpace(prefix)))
	return c.cmd, c.class.flagged()
}

// fixedPrefix is the part of a wildcard specifier before the first `*` ("curl -s:*" → "curl -s").
func fixedPrefix(spec string) string {
	if i := strings.IndexByte(spec, '*'); i >= 0 {
		spec = spec[:i]
	}
	return strings.TrimRight(spec, ": ")
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
	switch s := strings.TrimSpace(spec); s {
	case "", "*", ":*", "**", "* *", "*:*", "**:*", "***":
		return true
	default:
		return strings.Trim(s, "*: ") == ""
	}
}

// scriptRunnerSubcommands run any script, package or file when their arguments are free:
// `npm run:*`, `uv run *`, `bundle exec:*`.
var scriptRunnerSubcommands = map[string]map[string]bool{
	"npm": {"run": true, "run-script": true, "exec": true, "x": true}, "pnpm": {"run": true, "exec": true, "dlx": true},
	"yarn": {"run": true, "exec": true, "dlx": true}, "uv": {"run": true, "tool": true}, "poetry": {"run": true}, "pipenv": {"run": true},
	"bundle": {"exec": true}, "go": {"run": true}, "cargo": {"run": true}, "pdm": {"run": true}, "hatch": {"run": true}, "rye": {"run": true},
	"dotnet": {"run": true}, "mise": {"exec": true, "x": true}, "git": {"-c": true},
}

// runnerSubcommandSpec is "npm run:*" / "uv run *": a runner subcommand with free arguments.
func runnerSubcommandSpec(spec string) (string, bool) {
	f := strings.Fields(strings.TrimSpace(spec))
	if len(f) < 2 || len(f) > 3 {
		return "", false
	}
	cmd := pathBase(f[0])
	sub := f[1]
	rest := ""
	if len(f) == 3 {
		rest = f[2]
	} else if i := strings.Index(sub, ":"); i >= 0 {
		sub, rest = sub[:i], sub[i:]
	}
	if !scriptRunnerSubcommands[cmd][sub] {
		return "", false
	}
	if rest == "" || rest == ":*" || rest == "*" || rest == "**" {
		return cmd + " " + sub, true
	}
	return "", false
}

// broadEditSpec is an Edit/Write specifier that reaches files outside the project.
func broadEditSpec(spec string) bool {
	p := strings.TrimSpace(spec)
	if wildcardSpec(p) {
		return true
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "**"), "*")
	p = strings.TrimSuffix(p, "/**/")
	return p == "/" || p == "//" || p == "~/" || broadDirectory(p)
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
		if !hasSpec || wildcardSpec(spec) || firstCommand(spec) == "*" || firstCommand(spec) == "**" {
			return claudeGrant{checks.SeverityHigh, "approves every shell command", "Bash", 2, true, true}, true
		}
		if !strings.Contains(spec, "*") {
			return claudeGrant{}, false // without a wildcard Claude Code matches the exact command only
		}
		if sub, ok := runnerSubcommandSpec(spec); ok {
			return claudeGrant{checks.SeverityHigh, fmt.Sprintf("approves every `%s` invocation, which runs any script, package or file", sub), "Bash", 1, false, false}, true
		}
		if c := commandSpace(strings.Fields(fixedPrefix(spec))); c.class.flagged() {
			why := c.why
			if why == "" {
				why = "runs arbitrary code, escalates or reaches the network"
			}
			return claudeGrant{checks.SeverityHigh, fmt.Sprintf("approves every `%s` command: `%s` %s", fixedPrefix(spec), c.cmd, why), "Bash", 1, false, egressCommands[c.cmd]}, true
		}
		if wholeRunnerSpec(spec) {
			return claudeGrant{checks.SeverityHigh, fmt.Sprintf("approves every `%s` subcommand, which runs any script of the repository", firstCommand(spec)), "Bash", 1, false, false}, true
		}
	case tool == "Edit" || tool == "Write" || tool == "MultiEdit" || tool == "NotebookEdit":
		if !hasSpec || wildcardSpec(spec) {
			return claudeGrant{checks.SeverityHigh, "approves edits to any file the agent can reach", tool, 2, false, false}, true
		}
		if broadEditSpec(spec) {
			return claudeGrant{checks.SeverityHigh, "approves edits outside the project (home, dotfiles or system files)", tool, 1, false, false}, true
		}
	case tool == "WebFetch":
		if !hasSpec || wildcardSpec(spec) {
			return claudeGrant{checks.SeverityLow, "fetches any URL", "WebFetch", 2, false, true}, false // egress only matters on untrusted triggers
		}
	case strings.HasPrefix(tool, "mcp__"):
		parts := strings.Split(strings.TrimPrefix(tool, "mcp__"), "__")
		if parts[0] == "*" || parts[0] == "" {
			return claudeGrant{checks.SeverityHigh, "approves every tool of every MCP server, including write and delete tools", "mcp__", 3, false, false}, true
		}
		if len(parts) == 1 || parts[1] == "*" || parts[1] == "" {
			return claudeGrant{checks.SeverityMedium, fmt.Sprintf("approves every tool of MCP server `%s`, including write and delete tools", parts[0]), "mcp__" + parts[0], 2, false, false}, true
		}
	}
	return claudeGrant{}, false
}

// claudeAllow judges each entry of a Claude Code allow list.
func claudeAllow(r *report, list *node, key string) {
	var remote, push *node
	for _, it := range list.list() {
		if it.kind != scalarNode {
			continue
		}
		if tool, spec, _ := splitToolRule(it.text()); tool == "Bash" && strings.Contains(spec, "*") {
			switch f := strings.Fields(fixedPrefix(spec)); {
			case len(f) >= 2 && f[0] == "git" && f[1] == "remote" && (len(f) == 2 || f[2] == "add" || f[2] == "set-url"):
				remote = it
			case len(f) == 2 && f[0] == "git" && f[1] == "push":
				push = it
			}
		}
		g, ok := judgeClaudeAllow(it.text())
		if !ok {
			continue
		}
		r.add(hit{rule: ruleCC1, severity: g.severity, line: it.line,
			setting: "permissions.allow " + it.text(), scope: "permissions.allow " + g.scope, breadth: g.breadth,
			message: fmt.Sprintf("Claude Code may run without asking: `%s` %s.", it.text(), g.what)})
	}
	if remote != nil && push != nil {
		// Each alone stays in the project's remotes; together the agent names a remote and pushes there.
		r.add(hit{rule: ruleCC1, severity: checks.SeverityHigh, line: remote.line, setting: "permissions.allow " + remote.text() + " + " + push.text(),
			message: fmt.Sprintf("Claude Code may run without asking: `%s` together with `%s` lets the agent add a remote of its choosing and push the repository there.", remote.text(), push.text())})
	}
}

// claudeProjectScope is a settings file that Claude Code reads as project or local settings
// (where it reportedly ignores bypass modes): .claude/settings*.json. Managed settings are
// enforced, and a copy elsewhere (a dotfiles repository's claude/settings.json) exists to
// become user settings, where bypass modes apply.
func claudeProjectScope(p string) bool {
	return pathBase(strings.TrimSuffix(strings.ReplaceAll(p, "\\", "/"), "/"+pathBase(p))) == ".claude" && pathBase(p) != "managed-settings.json"
}

// claudeJSON checks a committed ~/.claude.json-style file: MCP servers at the top and per project.
func claudeJSON(r *report, root *node) {
	mcpFile(r, root)
	root.get("projects").each(func(_ string, proj *node) {
		mcpServers(r, proj.get("mcpServers"))
		claudeAllow(r, proj.get("allowedTools"), "allowedTools")
	})
}

var (
	// remoteExec downloads code and runs it: curl ... | sh, bash <(curl ...), iex (iwr ...).
	remoteExec = regexp.MustCompile(`(?i)\b(curl|wget|iwr|irm|invoke-webrequest|invoke-restmethod)\b[^|;&]*\|\s*(sudo\s+)?(ba|z|da|k)?sh\b|\b(curl|wget|iwr|irm)\b[^|;&]*\|\s*(sudo\s+)?(python3?|node|perl|ruby|iex|invoke-expression)\b|<\(\s*(curl|wget)\b|\$\(\s*(curl|wget)\b[^)]*\)\s*"?\s*$|\b(sh|bash)\s+-c\s+["']?\$\(\s*(curl|wget)\b`)
	// exfilCommand sends local secrets out: an upload flag or pipe to a network tool with env or credential files.
	egressUpload = regexp.MustCompile(`(?i)\b(curl|wget|nc|ncat|socat)\b.*(\s-d\b|\s--data|\s-F\b|\s--form|\s-T\b|\s--upload-file|--post-data|--post-file)|\|\s*(nc|ncat|socat|curl|wget)\b`)
	secretSource = regexp.MustCompile(`(?i)\$\(\s*(env|printenv|set)\s*\)|\b(env|printenv)\s*\||~/\.(ssh|aws|config/gh|docker|kube|netrc|npmrc|git-credentials)|\bid_(rsa|ed25519)|/etc/(passwd|shadow)|(^|[\s/])\.env\b|\bcredentials\b|\$\{?(ANTHROPIC|OPENAI|GITHUB|GH|AWS)_[A-Z_]*\}?`)
)

// agentHooks flags hook (and status line) commands that fetch and run remote code or send
// secrets out. Claude Code, Gemini CLI and Amazon Q agents share the shape
// hooks.<event>[] with a command, or hooks.<event>[].hooks[].command.
func agentHooks(r *report, root *node, who string) {
	var cmds []*node
	root.get("hooks").each(func(event string, matchers *node) {
		for _, m := range matchers.list() {
			for _, h := range m.get("hooks").list() {
				if c := h.get("command"); c != nil {
					cmds = append(cmds, c)
				}
			}
			if c := m.get("command"); c != nil { // a hook written without the matcher level
				cmds = append(cmds, c)
			}
		}
	})
	if c := root.get("statusLine", "command"); c != nil {
		cmds = append(cmds, c)
	}
	if c := root.get("apiKeyHelper"); c != nil {
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		judgeHookCommand(r, c, who)
	}
}

// judgeHookCommand reports a command that runs with no prompt and downloads code or exfiltrates secrets.
func judgeHookCommand(r *report, c *node, who string) {
	t := c.text()
	what := ""
	switch {
	case remoteExec.MatchString(t):
		what = "downloads a script and runs it"
	case egressUpload.MatchString(t) && secretSource.MatchString(t):
		what = "sends environment variables or credential files to a remote host"
	default:
		return
	}
	r.add(hit{rule: ruleCC6, severity: checks.SeverityHigh, line: c.line, setting: "hook " + strings.Join(strings.Fields(t), " "),
		message: fmt.Sprintf("%s runs without a prompt and %s: whoever controls that URL or script runs code with the developer's (or CI's) credentials.", who, what)})
}

// claudeSettings checks a Claude Code settings object. projectScope lowers what Claude
// Code ignores when it comes from project or local settings.
func claudeSettings(r *report, root *node, p string, projectScope bool) {
	if root == nil || root.kind != mapNode {
		return
	}
	perms := root.get("permissions")
	claudeAllow(r, perms.get("allow"), "permissions.allow")
	claudeAllow(r, root.get("allowedTools"), "allowedTools")              // the older top-level form
	claudeAllow(r, perms.get("allowedTools"), "permissions.allowedTools") // and its nested variant
	agentHooks(r, root, "Claude Code hook")
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
	t := strings.ReplaceAll(d, "\\", "/")
	for _, home := range []string{"${env:HOME}", "${env:USERPROFILE}", "${userHome}", "%USERPROFILE%", "%HOMEPATH%", "${HOME}", "$HOME", "%HOME%"} {
		if strings.HasPrefix(t, home) {
			t = "~" + t[len(home):]
			break
		}
	}
	if len(t) >= 2 && t[1] == ':' && (t[0]|0x20) >= 'a' && (t[0]|0x20) <= 'z' { // C:/Users/x -> /Users/x
		t = t[2:]
		if t == "" {
			return true
		}
	}
	for strings.HasPrefix(t, "//") {
		t = t[1:]
	}
	t = strings.TrimRight(t, "/")
	switch t {
	case "", "~", "/home", "/Users", "/root", "/etc", "/usr", "/var", "/opt", "/Windows", "..", "../..", "/mnt", "/Volumes", "/private", "/proc", "/sys", "/dev", "/boot", "/bin", "/sbin", "/lib":
		return true
	}
	for _, pre := range []string{"~/.", "/etc/", "/root/", "/var/", "/usr/", "../../", "/proc/", "/sys/", "/boot/", "/Windows/", "/private/etc", "/Library/"} {
		if strings.HasPrefix(t, pre) {
			return true
		}
	}
	// A home directory itself, or a dotfile in it: /home/alice, /Users/alice/.ssh.
	for _, pre := range []string{"/home/", "/Users/"} {
		if rest, ok := strings.CutPrefix(t, pre); ok {
			name, sub, _ := strings.Cut(rest, "/")
			if name != "" && (sub == "" || strings.HasPrefix(sub, ".")) {
				return true
			}
		}
	}
	return false
}
