package agents

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// codexConfig checks a Codex config.toml: the top level and every profile.
func codexConfig(r *report, root *node) {
	codexScope(r, root, "", root.get("approval_policy").text())
	root.get("profiles").each(func(name string, prof *node) {
		approval := prof.get("approval_policy").text()
		if approval == "" {
			approval = root.get("approval_policy").text()
		}
		codexScope(r, prof, "profiles."+name+".", approval)
	})
	mcpServers(r, root.get("mcp_servers"))
}

func codexScope(r *report, scope *node, prefix, approval string) {
	never := approval == "never"
	for _, key := range []string{"sandbox_mode", "default_permissions"} {
		v := scope.get(key)
		if t := strings.TrimPrefix(v.text(), ":"); t == "danger-full-access" {
			sev, extra := checks.SeverityMedium, " Approvals still prompt, so it is medium."
			if never {
				sev, extra = checks.SeverityHigh, " With `approval_policy = \"never\"` nothing asks first (same as --yolo)."
			}
			r.add(hit{rule: ruleCX1, severity: sev, line: v.line, setting: prefix + key + " " + v.text(),
				message: fmt.Sprintf("Codex `%s%s = %q` runs commands with no sandbox.%s", prefix, key, v.text(), extra)})
		}
	}
	ws := scope.get("sandbox_workspace_write")
	for _, d := range ws.get("writable_roots").list() {
		t := strings.TrimSpace(d.text())
		if writableRootTooBroad(t) {
			r.add(hit{rule: ruleCX2, severity: checks.SeverityHigh, line: d.line, setting: prefix + "writable_roots " + t,
				message: fmt.Sprintf("Codex writable root `%s` lets sandboxed commands write outside the workspace (shell profile, SSH keys, credentials).", t)})
		}
	}
	if n := ws.get("network_access"); n.truthy() && never {
		r.add(hit{rule: ruleCX2, severity: checks.SeverityMedium, line: n.line, setting: prefix + "network_access true approval never",
			message: "Codex sandbox has network access and `approval_policy = \"never\"`: commands can send workspace data anywhere without a prompt."})
	}
}

// geminiShellTools are the shell tool's names across Gemini CLI versions.
var geminiShellTools = map[string]bool{"run_shell_command": true, "ShellTool": true, "shell": true}

// geminiSettings checks a Gemini CLI settings object (v2 nested and v1 flat keys).
func geminiSettings(r *report, root *node, projectScope bool) {
	allowed := append(root.get("tools", "allowed").list(), root.get("allowedTools").list()...)
	for _, it := range allowed {
		tool, spec, hasSpec := splitToolRule(it.text())
		what := ""
		switch {
		case tool == "*":
			what = "every tool"
		case geminiShellTools[tool] && (!hasSpec || wildcardSpec(spec)):
			what = "every shell command"
		case geminiShellTools[tool] && isRiskyPrefix(fixedPrefix(spec)):
			what = fmt.Sprintf("every `%s` command, which runs arbitrary code or reaches the network", fixedPrefix(spec))
		case (tool == "write_file" || tool == "replace" || tool == "WriteFileTool" || tool == "EditTool") && !hasSpec:
			what = "writes to any file"
		}
		if what != "" {
			r.add(hit{rule: ruleGM1, severity: checks.SeverityHigh, line: it.line, setting: "tools.allowed " + it.text(),
				scope: "tools.allowed " + tool, breadth: boolInt(!hasSpec) + 1,
				message: fmt.Sprintf("Gemini CLI `tools.allowed` entry `%s` skips confirmation for %s.", it.text(), what)})
		}
	}
	for _, d := range root.get("tools", "sandboxAllowedPaths").list() {
		if t := strings.TrimSpace(d.text()); t == "/" || broadDirectory(t) {
			r.add(hit{rule: ruleGM1, severity: checks.SeverityHigh, line: d.line, setting: "tools.sandboxAllowedPaths " + t,
				message: fmt.Sprintf("Gemini CLI sandbox allows `%s`: the sandbox no longer protects home or system files.", t)})
		}
	}
	for _, key := range [][]string{{"general", "defaultApprovalMode"}, {"general", "approvalMode"}, {"defaultApprovalMode"}, {"approvalMode"}, {"yolo"}, {"general", "yolo"}} {
		m := root.get(key...)
		if !strings.EqualFold(m.text(), "yolo") && !(key[len(key)-1] == "yolo" && m.truthy()) {
			continue
		}
		sev, note := checks.SeverityHigh, ""
		if projectScope {
			sev, note = checks.SeverityLow, " Gemini CLI ignores it in settings (YOLO is command-line only), hence low; it shows intent to run without confirmation."
		}
		r.add(hit{rule: ruleGM3, severity: sev, line: m.line, setting: strings.Join(key, ".") + " yolo",
			message: fmt.Sprintf("Gemini CLI `%s: %s` asks to approve every tool call.%s", strings.Join(key, "."), m.text(), note)})
	}
	agentHooks(r, root, "Gemini CLI hook")
	mcpServers(r, root.get("mcpServers"))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// geminiPolicy checks a Gemini CLI policy TOML. Workspace policies are documented as disabled.
func geminiPolicy(r *report, root *node) {
	for i, rl := range root.get("rule").list() {
		if !strings.EqualFold(rl.get("decision").text(), "allow") {
			continue
		}
		var prefixes []string
		var prefixNodes []*node
		for _, key := range []string{"commandPrefix", "argsPattern", "commandRegex"} {
			for _, p := range rl.get(key).list() {
				if t := strings.TrimSpace(p.text()); t != "" && t != ".*" && t != ".+" && t != "^.*$" && t != "*" {
					prefixes = append(prefixes, t)
					prefixNodes = append(prefixNodes, p)
				}
			}
		}
		narrowed := len(prefixes) > 0
		names := rl.get("toolName").list()
		if len(names) == 0 && rl.get("mcpName") == nil {
			d := rl.get("decision")
			r.add(hit{rule: ruleGM2, severity: checks.SeverityMedium, line: d.line, setting: fmt.Sprintf("policy allow rule %d without toolName", i+1),
				message: fmt.Sprintf("Gemini CLI policy rule %d has `decision = \"allow\"` and no `toolName`, so it allows every tool without confirmation. Gemini CLI documents workspace policies as disabled, hence medium; the same file is live in user or admin policy paths.", i+1)})
			continue
		}
		for _, tn := range names {
			t := tn.text()
			what, at := "", tn
			switch {
			case t == "*" || t == "mcp_*" || (strings.HasSuffix(t, "__*") || strings.HasSuffix(t, "_*")) && !narrowed:
				what = "allows every tool it matches"
			case geminiShellTools[t] && !narrowed:
				what = "allows every shell command"
			case geminiShellTools[t]:
				for j, p := range prefixes {
					if c, ok := riskyPrefix(fixedPrefix(strings.TrimLeft(p, "^"))); ok && !strings.Contains(p, "$") {
						what, at = fmt.Sprintf("allows every `%s` command, which runs arbitrary code or reaches the network,", c), prefixNodes[j]
						break
					}
				}
			case (t == "write_file" || t == "replace") && !narrowed:
				what = "allows writes to any file"
			}
			if what == "" {
				continue
			}
			r.add(hit{rule: ruleGM2, severity: checks.SeverityMedium, line: at.line, setting: fmt.Sprintf("policy allow %s %s", t, strings.Join(prefixes, ",")),
				message: fmt.Sprintf("Gemini CLI policy rule %d (`toolName = %q`, `decision = \"allow\"`) %s without confirmation. Gemini CLI documents workspace policies as disabled, hence medium; the same file is live in user or admin policy paths.", i+1, t, what)})
		}
	}
}

// cursorPermissions checks .cursor/cli.json and .cursor/permissions.json.
func cursorPermissions(r *report, root *node) {
	for _, it := range root.get("permissions", "allow").list() {
		tool, spec, _ := splitToolRule(it.text())
		what, sev := "", checks.SeverityHigh
		switch tool {
		case "Shell":
			if wildcardSpec(spec) || firstCommand(spec) == "*" {
				what = "every shell command"
			} else if isRiskyPrefix(fixedPrefix(spec)) {
				what = fmt.Sprintf("every `%s` command", fixedPrefix(spec))
			}
		case "Write":
			switch strings.TrimSpace(spec) {
			case "", "*", "**", "/**", "~/**", "**/*":
				what = "writes anywhere"
			}
		case "Mcp":
			switch sp := strings.ReplaceAll(spec, " ", ""); {
			case sp == "*,*" || sp == "*:*" || sp == "*" || sp == "" || strings.HasPrefix(sp, "*,") || strings.HasPrefix(sp, "*:"):
				what = "every tool of every MCP server"
			case strings.HasSuffix(sp, ",*") || strings.HasSuffix(sp, ":*"):
				// One server's tools, as Claude Code's `mcp__server`: a deliberate grant, medium.
				sev = checks.SeverityMedium
				what = "every tool of that MCP server, write tools included"
			}
		}
		if what != "" {
			r.add(hit{rule: ruleCU1, severity: sev, line: it.line, setting: "permissions.allow " + it.text(),
				message: fmt.Sprintf("Cursor allows `%s`: %s without asking.", it.text(), what)})
		}
	}
	for _, key := range []string{"terminalAllowlist", "mcpAllowlist"} {
		for _, it := range root.get(key).list() {
			t := strings.TrimSpace(it.text())
			if t == "*" || t == "*:*" || (key == "terminalAllowlist" && (isRiskyPrefix(fixedPrefix(t)) || firstCommand(t) == "*")) {
				r.add(hit{rule: ruleCU1, severity: checks.SeverityHigh, line: it.line, setting: key + " " + t,
					message: fmt.Sprintf("Cursor `%s` entry `%s` auto-runs more than a fixed command.", key, t)})
			}
		}
	}
}

// copilotAgent checks a Copilot custom agent profile's front matter.
func copilotAgent(r *report, fm *node) {
	mcpServers(r, fm.get("mcp-servers"))
	tools := fm.get("tools")
	if tools == nil {
		if m := fm.get("mcp-servers"); m != nil {
			r.add(hit{rule: ruleCP1, severity: checks.SeverityMedium, line: m.keyLine(), setting: "tools unset with mcp-servers",
				message: "Copilot custom agent has no `tools` list, so it gets every tool, including those of the MCP servers it declares."})
		}
		return
	}
	for _, it := range tools.list() {
		if t := it.text(); t == "*" || t == "all" {
			r.add(hit{rule: ruleCP1, severity: checks.SeverityMedium, line: it.line, setting: "tools " + t,
				message: "Copilot custom agent `tools: [\"*\"]` grants every built-in and MCP tool."})
		}
	}
}

// agenticWorkflow checks a GitHub agentic workflow (gh-aw) front matter.
func agenticWorkflow(r *report, fm *node) {
	mcpServers(r, fm.get("mcp-servers"))
	if b := fm.get("tools", "bash"); b != nil && b.kind == scalarNode && b.text() == "true" {
		r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: b.line, setting: "tools.bash true",
			message: "Agentic workflow allows every bash command (`bash: true`)."})
	}
	for _, it := range fm.get("tools", "bash").list() {
		if t := it.text(); t == ":*" || t == "*" {
			r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: it.line, setting: "tools.bash " + t,
				message: fmt.Sprintf("Agentic workflow allows every bash command (`%s`).", t)})
		}
	}
	if s := fm.get("strict"); s != nil && s.text() == "false" {
		r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: s.line, setting: "strict false",
			message: "Agentic workflow turns strict mode off, which lifts the compiler's refusals of unsafe settings."})
	}
	for _, it := range fm.get("roles").list() {
		if t := it.text(); t == "all" || t == "*" {
			r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: it.line, setting: "roles all",
				message: "Agentic workflow `roles: all` lets anyone who can open an issue or comment trigger the agent (the default is admin and maintainer)."})
		}
	}
	if sb := fm.get("sandbox"); sb != nil && sb.kind == scalarNode && sb.text() == "false" {
		r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: sb.line, setting: "sandbox.agent false",
			message: "Agentic workflow disables the sandbox (`sandbox: false`)."})
	}
	if a := fm.get("sandbox", "agent"); a != nil && a.text() == "false" {
		r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: a.line, setting: "sandbox.agent false",
			message: "Agentic workflow disables the agent sandbox (`sandbox.agent: false`)."})
	}
	net := fm.get("network")
	for _, it := range append(net.list(), net.get("allowed").list()...) {
		if it.text() == "*" {
			r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: it.line, setting: "network *",
				message: "Agentic workflow lets the agent reach any host (`network: *`)."})
		}
	}
	perms := fm.get("permissions")
	if perms.text() == "write-all" {
		r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: perms.line, setting: "permissions write-all",
			message: "Agentic workflow gives the agent job `write-all`; writes belong in `safe-outputs`."})
	}
	perms.each(func(k string, v *node) {
		// copilot-requests is the Copilot engine's billing permission (it lets the run use
		// the account's premium requests), not a write to the repository.
		if v.text() == "write" && k != "copilot-requests" {
			r.add(hit{rule: ruleCP2, severity: checks.SeverityHigh, line: v.line, setting: "permissions " + k + " write",
				message: fmt.Sprintf("Agentic workflow gives the agent job `%s: write`; writes belong in `safe-outputs`.", k)})
		}
	})
}

// amazonQAgent checks an Amazon Q Developer / Kiro agent file.
func amazonQAgent(r *report, root *node) {
	for _, it := range root.get("allowedTools").list() {
		t := it.text()
		what := ""
		switch {
		case t == "*":
			what = "every tool"
		case t == "@builtin":
			what = "every built-in tool (shell, file writes and AWS calls included)"
		case amazonQPowerTools[t]:
			what = "`" + t + "` (shell, file writes or AWS API calls)"
		case strings.HasPrefix(t, "@") && (!strings.Contains(t, "/") || strings.HasSuffix(t, "/*")):
			what = "every tool of MCP server `" + strings.TrimSuffix(t[1:], "/*") + "`"
		case strings.HasPrefix(t, "@") && execTool(t[strings.IndexByte(t, '/')+1:]):
			what = "`" + t + "`, an MCP tool that runs commands"
		}
		if what != "" {
			r.add(hit{rule: ruleAQ1, severity: checks.SeverityHigh, line: it.line, setting: "allowedTools " + t,
				message: fmt.Sprintf("Amazon Q agent pre-approves %s: it runs without a prompt.", what)})
		}
	}
	agentHooks(r, root, "Amazon Q agent hook")
	ts := root.get("toolsSettings")
	for _, key := range []string{"execute_bash", "execute_cmd", "shell"} {
		for _, c := range ts.get(key, "allowedCommands").list() {
			t := strings.TrimSpace(c.text())
			free := strings.ContainsAny(t, "*+") // entries are anchored patterns: a bare word is that command alone
			if t == "*" || t == ".*" || t == ".+" || t == "^.*$" || t == "**" || free && isRiskyPrefix(strings.TrimRight(fixedPrefix(t), ".\\s+")) {
				r.add(hit{rule: ruleAQ1, severity: checks.SeverityHigh, line: c.line, setting: "toolsSettings." + key + ".allowedCommands " + t,
					message: fmt.Sprintf("Amazon Q agent runs `%s` commands matching `%s` without a prompt: that is any command (or an interpreter or downloader).", key, t)})
			}
		}
	}
	for _, key := range []string{"fs_write", "write"} {
		for _, p := range ts.get(key, "allowedPaths").list() {
			if t := strings.TrimSpace(p.text()); broadEditSpec(t) {
				r.add(hit{rule: ruleAQ1, severity: checks.SeverityHigh, line: p.line, setting: "toolsSettings." + key + ".allowedPaths " + t,
					message: fmt.Sprintf("Amazon Q agent writes to `%s` without a prompt: files outside the project (shell profiles, SSH keys) included.", t)})
			}
		}
	}
	mcpServers(r, root.get("mcpServers"))
}

// amazonQPowerTools are built-ins that run commands, write files or call AWS (Kiro names included).
var amazonQPowerTools = map[string]bool{"execute_bash": true, "execute_cmd": true, "fs_write": true, "use_aws": true, "shell": true, "write": true, "aws": true,
	"executeBash": true, "fsWrite": true, "fsReplace": true, "useAws": true} // the IDE's names

func aiderConfig(r *report, root *node) {
	for _, key := range []string{"yes-always", "yes"} {
		if y := root.get(key); yamlTrue(y) {
			r.add(hit{rule: ruleAD1, severity: checks.SeverityMedium, line: y.line, setting: "yes-always true",
				message: fmt.Sprintf("Aider `%s: %s` answers yes to every confirmation, including running suggested shell commands.", key, y.text())})
		}
	}
}

func gooseConfig(r *report, root *node) {
	for _, key := range []string{"GOOSE_MODE", "goose_mode"} {
		if m := root.get(key); strings.EqualFold(strings.TrimSpace(m.text()), "auto") {
			r.add(hit{rule: ruleGS1, severity: checks.SeverityHigh, line: m.line, setting: "GOOSE_MODE auto",
				message: "Goose `GOOSE_MODE: auto` runs every tool without approval."})
		}
	}
	mcpServers(r, root.get("extensions"))
}

func isRiskyPrefix(p string) bool {
	_, ok := riskyPrefix(p)
	return ok
}

// yamlTrue is a YAML 1.1 boolean true as Python tools read it (true, yes, on), or 1.
func yamlTrue(n *node) bool {
	switch strings.ToLower(strings.TrimSpace(n.text())) {
	case "true", "yes", "on", "y", "1":
		return true
	}
	return false
}

// credentialDotDirs hold credentials, shell start-up files or tools' own settings, so any
// folder inside them is as sensitive as the folder itself.
var credentialDotDirs = map[string]bool{".ssh": true, ".aws": true, ".gnupg": true, ".kube": true, ".docker": true, ".config": true,
	".azure": true, ".gcloud": true, ".npmrc": true, ".netrc": true, ".git-credentials": true}

// writableRootTooBroad is a sandbox writable root that reaches beyond named work folders:
// `/`, home, a system path, a dotfile or dot folder of home itself (`~/.ssh`, `~/.zshrc`,
// `~/.codex` with the agent's own config), or anything inside a credential folder. A named
// folder below a tool's folder (`~/.codex/automations`) or in home (`~/dev`) is not.
func writableRootTooBroad(t string) bool {
	n := strings.ReplaceAll(t, "\\", "/")
	for _, home := range []string{"${HOME}", "$HOME", "${env:HOME}"} {
		if strings.HasPrefix(n, home) {
			n = "~" + n[len(home):]
		}
	}
	for _, pre := range []string{"/home/", "/Users/"} {
		if rest, ok := strings.CutPrefix(n, pre); ok {
			if _, sub, found := strings.Cut(rest, "/"); found {
				n = "~/" + sub
			}
		}
	}
	if rest, ok := strings.CutPrefix(strings.TrimRight(n, "/"), "~/."); ok {
		top, sub, _ := strings.Cut(rest, "/")
		return sub == "" || credentialDotDirs["."+top]
	}
	return t == "/" || broadDirectory(t)
}
