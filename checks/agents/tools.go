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
		if t == "/" || broadDirectory(t) || strings.HasPrefix(t, "~/.") {
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
		case geminiShellTools[tool] && riskyCommands[firstCommand(spec)]:
			what = fmt.Sprintf("every `%s` command, which runs arbitrary code or reaches the network", firstCommand(spec))
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
	if m := root.get("general", "defaultApprovalMode"); strings.EqualFold(m.text(), "yolo") {
		sev, note := checks.SeverityHigh, ""
		if projectScope {
			sev, note = checks.SeverityLow, " Gemini CLI ignores it in settings (YOLO is command-line only), hence low; it shows intent to run without confirmation."
		}
		r.add(hit{rule: ruleGM3, severity: sev, line: m.line, setting: "general.defaultApprovalMode yolo",
			message: "Gemini CLI `defaultApprovalMode: yolo` approves every tool call." + note})
	}
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
		names := rl.get("toolName").list()
		for _, tn := range names {
			t := tn.text()
			narrowed := rl.get("commandPrefix") != nil || rl.get("argsPattern") != nil || rl.get("commandRegex") != nil
			what := ""
			switch {
			case t == "*" || t == "mcp_*" || strings.HasSuffix(t, "__*") && !narrowed:
				what = "allows every tool it matches"
			case geminiShellTools[t] && !narrowed:
				what = "allows every shell command"
			}
			if what == "" {
				continue
			}
			r.add(hit{rule: ruleGM2, severity: checks.SeverityMedium, line: tn.line, setting: fmt.Sprintf("policy allow %s", t),
				message: fmt.Sprintf("Gemini CLI policy rule %d (`toolName = %q`, `decision = \"allow\"`) %s without confirmation. Gemini CLI documents workspace policies as disabled, hence medium; the same file is live in user or admin policy paths.", i+1, t, what)})
		}
	}
}

// cursorPermissions checks .cursor/cli.json and .cursor/permissions.json.
func cursorPermissions(r *report, root *node) {
	for _, it := range root.get("permissions", "allow").list() {
		tool, spec, _ := splitToolRule(it.text())
		what := ""
		switch tool {
		case "Shell":
			if wildcardSpec(spec) {
				what = "every shell command"
			} else if riskyCommands[firstCommand(spec)] {
				what = fmt.Sprintf("every `%s` command", firstCommand(spec))
			}
		case "Write":
			switch strings.TrimSpace(spec) {
			case "", "*", "**", "/**", "~/**", "**/*":
				what = "writes anywhere"
			}
		case "Mcp":
			if strings.ReplaceAll(spec, " ", "") == "*,*" || spec == "*" {
				what = "every tool of every MCP server"
			}
		}
		if what != "" {
			r.add(hit{rule: ruleCU1, severity: checks.SeverityHigh, line: it.line, setting: "permissions.allow " + it.text(),
				message: fmt.Sprintf("Cursor allows `%s`: %s without asking.", it.text(), what)})
		}
	}
	for _, key := range []string{"terminalAllowlist", "mcpAllowlist"} {
		for _, it := range root.get(key).list() {
			t := strings.TrimSpace(it.text())
			if t == "*" || (key == "terminalAllowlist" && riskyCommands[firstCommand(t)]) {
				r.add(hit{rule: ruleCU1, severity: checks.SeverityHigh, line: it.line, setting: key + " " + t,
					message: fmt.Sprintf("Cursor `%s` entry `%s` auto-runs more than a fixed command.", key, t)})
			}
		}
	}
}

// copilotAgent checks a Copilot custom agent profile's front matter.
func copilotAgent(r *report, fm *node) {
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
		if v.text() == "write" {
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
		case t == "execute_bash" || t == "fs_write" || t == "use_aws":
			what = "`" + t + "` (shell, file writes or AWS API calls)"
		case strings.HasPrefix(t, "@") && !strings.Contains(t, "/"):
			what = "every tool of MCP server `" + t[1:] + "`"
		}
		if what != "" {
			r.add(hit{rule: ruleAQ1, severity: checks.SeverityHigh, line: it.line, setting: "allowedTools " + t,
				message: fmt.Sprintf("Amazon Q agent pre-approves %s: it runs without a prompt.", what)})
		}
	}
	mcpServers(r, root.get("mcpServers"))
}

func aiderConfig(r *report, root *node) {
	if y := root.get("yes-always"); y.truthy() {
		r.add(hit{rule: ruleAD1, severity: checks.SeverityMedium, line: y.line, setting: "yes-always true",
			message: "Aider `yes-always: true` answers yes to every confirmation, including running suggested shell commands."})
	}
}

func gooseConfig(r *report, root *node) {
	if m := root.get("GOOSE_MODE"); strings.EqualFold(m.text(), "auto") {
		r.add(hit{rule: ruleGS1, severity: checks.SeverityHigh, line: m.line, setting: "GOOSE_MODE auto",
			message: "Goose `GOOSE_MODE: auto` runs every tool without approval."})
	}
}
