package agents

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// untrustedTriggers run on events that anyone who can open an issue, comment or fork can cause.
var untrustedTriggers = map[string]bool{"pull_request_target": true, "workflow_run": true, "issue_comment": true, "issues": true,
	"pull_request_review_comment": true, "pull_request_review": true, "discussion": true, "discussion_comment": true}

// untrustedExpr is an expression whose text an outsider writes.
var untrustedExpr = regexp.MustCompile(`\$\{\{[^}]*(github\.event\.(issue\.(title|body)|comment\.body|pull_request\.(title|body|head\.ref|head\.label)|review\.body|review_comment\.body|discussion\.(title|body)|head_commit\.message|commits|workflow_run\.(head_branch|display_title|head_commit)|pages)|github\.head_ref|(?i:tojson)\(\s*github\.event\s*(\.\s*(issue|comment|pull_request|review|review_comment|discussion|head_commit|commits)\s*)?\))[^}]*\}\}`)

// prCheckoutCmd is a run step that puts a pull request's code into the workspace.
var prCheckoutCmd = regexp.MustCompile(`\bgh\s+pr\s+checkout\b[^\n]*|\bgit\s+fetch\b[^\n]*\bpull/[^\n]*|\bgit\s+(checkout|switch)\b[^\n]*(github\.event\.pull_request\.head\.|github\.head_ref|FETCH_HEAD|refs/pull/)[^\n]*`)

// untrustedRef is a checkout ref that names the pull request's own code.
var untrustedRef = regexp.MustCompile(`github\.event\.pull_request\.head\.|github\.head_ref|workflow_run\.head_(sha|branch)|refs/pull/`)

// writeScopes are token scopes an agent job should not hold (issues or pull-requests write
// for comments and id-token for OIDC are what agent jobs legitimately use).
var writeScopes = map[string]bool{"contents": true, "actions": true, "packages": true, "deployments": true, "pages": true, "security-events": true, "statuses": true, "checks": true}

// agentCLI finds agent command lines in a run script.
var agentCLI = regexp.MustCompile(`(^|[\s;&|(])(claude|codex|gemini|goose|aider|copilot|cursor-agent|q\s+chat|kiro-cli\s+chat)(\s|$)`)

// agentPackage is an agent CLI started through its npm package (npx @anthropic-ai/claude-code -p ...).
var agentPackage = regexp.MustCompile(`(?:(?:npx|bunx|pnpm\s+dlx|yarn\s+dlx|npm\s+exec)\s+(?:(?:-y|--yes|--)\s+)*)?@(anthropic-ai/claude-code|openai/codex|google/gemini-cli|github/copilot)(?:@[^\s]*)?`)

var agentPackageCLI = map[string]string{"anthropic-ai/claude-code": "claude", "openai/codex": "codex", "google/gemini-cli": "gemini", "github/copilot": "copilot"}

// normalizeAgentLine rewrites package launches of agent CLIs to the CLI's name.
func normalizeAgentLine(l string) string {
	if !strings.Contains(l, "@") {
		return l
	}
	return agentPackage.ReplaceAllStringFunc(l, func(m string) string {
		return agentPackageCLI[agentPackage.FindStringSubmatch(m)[1]]
	})
}

type agentStep struct {
	step   *node
	tool   string // claude, codex, gemini, or the CLI name
	action bool   // a uses: step (inputs under with:)
}

func agentActionTool(uses string) string {
	u := strings.ToLower(uses)
	switch {
	case strings.HasPrefix(u, "anthropics/claude-code-action"), strings.HasPrefix(u, "anthropics/claude-code-base-action"):
		return "claude"
	case strings.HasPrefix(u, "openai/codex-action"):
		return "codex"
	case strings.HasPrefix(u, "google-github-actions/run-gemini-cli"), strings.HasPrefix(u, "google-gemini/gemini-cli-action"):
		return "gemini"
	}
	return ""
}

// runScript blanks comment lines so a commented-out agent call does not count, keeps line
// positions, and names agent CLIs started through npx.
func runScript(run string) string {
	var b strings.Builder
	for _, l := range strings.Split(run, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(normalizeAgentLine(l))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func triggers(on *node) []string {
	switch {
	case on == nil:
		return nil
	case on.kind == mapNode:
		return on.keys
	}
	var out []string
	for _, it := range on.list() {
		out = append(out, it.text())
	}
	return out
}

// workflow checks a GitHub Actions workflow's jobs that run an AI agent.
func workflow(r *report, root *node) {
	trig := triggers(root.get("on"))
	untrusted, privileged := false, false
	for _, t := range trig {
		untrusted = untrusted || untrustedTriggers[t]
		// These run in the base repository's context with its secrets, yet can point at a fork's code.
		privileged = privileged || t == "pull_request_target" || t == "workflow_run" || t == "issue_comment"
	}
	root.get("jobs").each(func(jobID string, job *node) {
		var agents []agentStep
		steps := job.get("steps").list()
		for _, s := range steps {
			if tool := agentActionTool(s.get("uses").text()); tool != "" {
				agents = append(agents, agentStep{s, tool, true})
			} else if m := agentCLI.FindStringSubmatch(runScript(s.get("run").text())); m != nil && s.get("run").kind == scalarNode {
				agents = append(agents, agentStep{s, strings.Fields(m[2])[0], false})
			}
		}
		if len(agents) == 0 && jobID != "copilot-setup-steps" {
			return
		}
		jw := jobWorkflow{r: r, root: root, job: job, id: jobID, untrusted: untrusted}
		jw.tokenPermissions()
		if privileged {
			jw.untrustedCheckout(steps, agents)
		}
		for _, a := range agents {
			jw.agent(a)
		}
		jw.taintedOutputs(steps)
		jw.promptInjection(agents)
		jw.scriptInjection(steps, agents)
	})
}

type jobWorkflow struct {
	r         *report
	root, job *node
	id        string
	untrusted bool
	shellAll  bool // the agent has an unrestricted shell or no approvals
	egress    []*node
	// readOnly counts the agents whose whole tool set is known and read-only (Gemini
	// `tools.core` of read tools and read-only commands).
	readOnly int
	// tainted maps the id of a step whose outputs carry outsider-written text to that text.
	tainted map[string]string
}

// stepOutput is a reference to an earlier step's output.
var stepOutput = regexp.MustCompile(`\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_-]+\s*\}\}`)

// taintedOutputs finds the steps that write outsider-written text to their outputs: a
// run: script that expands it (or an env variable set from it) and writes $GITHUB_OUTPUT,
// or an earlier tainted step's output passed on. Their outputs are outsider text too.
func (w *jobWorkflow) taintedOutputs(steps []*node) {
	w.tainted = map[string]string{}
	for _, st := range steps {
		id := st.get("id").text()
		run := st.get("run")
		if id == "" || run == nil || !strings.Contains(run.text(), "GITHUB_OUTPUT") {
			continue
		}
		script := runScript(run.text())
		if m := untrustedExpr.FindString(script); m != "" {
			w.tainted[id] = m
			continue
		}
		if m := w.taintedRef(script); m != "" {
			w.tainted[id] = m
			continue
		}
		for _, ref := range envRef.FindAllStringSubmatch(script, -1) {
			name := ref[1]
			if ref[2] != "" {
				name = ref[2]
			}
			if ev := w.env(st, name); ev != nil {
				if m := untrustedExpr.FindString(ev.text()); m != "" {
					w.tainted[id] = m
					break
				}
				if m := w.taintedRef(ev.text()); m != "" {
					w.tainted[id] = m
					break
				}
			}
		}
	}
}

// taintedRef returns the outsider text behind the first tainted step output text refers to.
func (w *jobWorkflow) taintedRef(text string) string {
	for _, m := range stepOutput.FindAllStringSubmatch(text, -1) {
		if src, ok := w.tainted[m[1]]; ok {
			return src + " (through " + m[0] + ")"
		}
	}
	return ""
}

func (w *jobWorkflow) tokenPermissions() {
	perms, where := w.job.get("permissions"), "job `"+w.id+"`"
	settingScope := "job " + w.id
	if perms == nil {
		perms, where, settingScope = w.root.get("permissions"), "the workflow", "workflow"
	}
	if perms == nil {
		w.r.add(hit{rule: ruleGHA1, severity: checks.SeverityMedium, line: w.job.keyLine(), setting: "job " + w.id + " permissions unset",
			message: fmt.Sprintf("Job `%s` runs an AI agent with the default GITHUB_TOKEN (no `permissions` block), which may have write access to everything.", w.id)})
		return
	}
	if perms.text() == "write-all" {
		w.r.add(hit{rule: ruleGHA1, severity: checks.SeverityHigh, line: perms.line, setting: settingScope + " permissions write-all",
			message: fmt.Sprintf("Job `%s` runs an AI agent with `permissions: write-all` (set on %s).", w.id, where)})
		return
	}
	perms.each(func(scope string, v *node) {
		if v.text() == "write" && writeScopes[scope] {
			w.r.add(hit{rule: ruleGHA1, severity: checks.SeverityMedium, line: v.line, setting: settingScope + " permissions " + scope + " write",
				message: fmt.Sprintf("Job `%s` runs an AI agent holding `%s: write` (set on %s); a steered agent can use it.", w.id, scope, where)})
		}
	})
}

func (w *jobWorkflow) untrustedCheckout(steps []*node, agents []agentStep) {
	for _, s := range steps {
		if s == agents[0].step {
			return // only checkouts before the first agent step
		}
		if run := s.get("run"); run != nil {
			script := runScript(run.text())
			if m := prCheckoutCmd.FindString(script); m != "" {
				w.r.add(hit{rule: ruleGHA2, severity: checks.SeverityCritical, line: lineWithin(run, m), setting: "job " + w.id + " run checkout " + strings.Join(strings.Fields(m), " "),
					message: fmt.Sprintf("Job `%s` runs on a privileged trigger and checks out the pull request's code (`%s`) into the workspace before an agent runs: fork files steer an agent that holds this repository's secrets.", w.id, strings.TrimSpace(m))})
			}
			continue
		}
		if !strings.HasPrefix(strings.ToLower(s.get("uses").text()), "actions/checkout") {
			continue
		}
		ref := s.get("with", "ref")
		dir := strings.Trim(strings.TrimSpace(s.get("with", "path").text()), "./")
		if ref != nil && untrustedRef.MatchString(ref.text()) && dir == "" {
			w.r.add(hit{rule: ruleGHA2, severity: checks.SeverityCritical, line: ref.line, setting: "job " + w.id + " checkout " + ref.text(),
				message: fmt.Sprintf("Job `%s` runs on a privileged trigger and checks out the pull request's code (`%s`) into the workspace root before an agent runs: fork files steer an agent that holds this repository's secrets.", w.id, ref.text())})
		}
	}
}

// envValue finds env var name in step, job or workflow env.
func (w *jobWorkflow) env(step *node, name string) *node {
	for _, n := range []*node{step.get("env", name), w.job.get("env", name), w.root.get("env", name)} {
		if n != nil {
			return n
		}
	}
	return nil
}

func (w *jobWorkflow) agent(a agentStep) {
	s := a.step
	with := s.get("with")
	if a.action {
		switch a.tool {
		case "claude":
			w.anyone(with.get("allowed_non_write_users"), checks.SeverityCritical, "`allowed_non_write_users: \"*\"` lets anyone who can comment trigger the agent")
			w.anyone(with.get("allowed_bots"), checks.SeverityHigh, "`allowed_bots: \"*\"` lets any GitHub App trigger the agent with a prompt it controls")
			w.claudeArgs(with.get("claude_args"))
			for _, key := range []string{"allowed_tools", "allowedTools"} {
				w.claudeAllowList(with.get(key), with.get(key).text(), with.get(key).keyLine())
			}
			if st := with.get("settings"); st != nil {
				if n, err := parseJSON([]byte(st.text())); err == nil {
					var sub report
					claudeSettings(&sub, n, "", false)
					w.adopt(sub, st, "settings input ")
				}
			}
			if mc := with.get("mcp_config"); mc != nil {
				if n, err := parseJSON([]byte(mc.text())); err == nil {
					var sub report
					mcpFile(&sub, n)
					w.adopt(sub, mc, "mcp_config input ")
				}
			}
		case "codex":
			w.anyone(with.get("allow-users"), checks.SeverityCritical, "codex `allow-users: \"*\"` lets anyone trigger the agent")
			if v := with.get("safety-strategy"); v.text() == "unsafe" {
				w.shellAll = true
				w.r.add(hit{rule: ruleGHA3, severity: checks.SeverityHigh, line: v.line, setting: "job " + w.id + " codex safety-strategy unsafe",
					message: "codex-action `safety-strategy: unsafe` keeps sudo and the runner's privileges for the agent."})
			}
			if v := with.get("sandbox"); v.text() == "danger-full-access" {
				w.shellAll = true
				w.r.add(hit{rule: ruleGHA3, severity: checks.SeverityHigh, line: v.line, setting: "job " + w.id + " codex sandbox danger-full-access",
					message: "codex-action `sandbox: danger-full-access` runs the agent's commands with no sandbox."})
			}
			w.cliFlags(with.get("codex-args"), "codex")
		case "gemini":
			if st := with.get("settings"); st != nil {
				if n, err := parseJSON([]byte(withoutExpressions(st.text()))); err == nil {
					core := append(n.get("tools", "core").list(), n.get("coreTools").list()...)
					ro := len(core) > 0
					for _, c := range core {
						tool, spec, hasSpec := splitToolRule(c.text())
						if geminiShellTools[tool] && !hasSpec {
							w.shellAll = true
						}
						ro = ro && readOnlyGeminiTool(tool, spec, hasSpec)
					}
					if ro {
						w.readOnly++
					}
					var sub report
					geminiSettings(&sub, n, true) // written to .gemini/settings.json by the action: yolo is ignored there too
					w.adopt(sub, st, "settings input ")
				}
			}
		}
	} else {
		w.cliFlags(s.get("run"), "")
	}
	if v := w.env(s, "GEMINI_CLI_TRUST_WORKSPACE"); v.truthy() && (a.tool == "gemini") {
		w.shellAll = true
		if w.untrusted {
			w.r.add(hit{rule: ruleGM3, severity: checks.SeverityHigh, line: v.line, setting: "job " + w.id + " GEMINI_CLI_TRUST_WORKSPACE",
				message: "`GEMINI_CLI_TRUST_WORKSPACE: true` on an untrusted trigger trusts a workspace outsiders can write to."})
		}
	}
	if v := w.env(s, "GOOSE_MODE"); strings.EqualFold(v.text(), "auto") {
		w.shellAll = true
		w.r.add(hit{rule: ruleGS1, severity: checks.SeverityHigh, line: v.line, setting: "job " + w.id + " GOOSE_MODE auto",
			message: fmt.Sprintf("Job `%s` runs Goose with `GOOSE_MODE: auto`: every tool call runs without approval.", w.id)})
	}
	if v := w.env(s, "AIDER_YES_ALWAYS"); v.truthy() {
		w.r.add(hit{rule: ruleAD1, severity: checks.SeverityMedium, line: v.line, setting: "job " + w.id + " AIDER_YES_ALWAYS",
			message: "`AIDER_YES_ALWAYS=true` confirms every Aider prompt, including shell commands."})
	}
}

// adopt takes findings of a settings object embedded in a workflow input, at their line
// inside a block scalar, or at the input's line.
func (w *jobWorkflow) adopt(sub report, in *node, prefix string) {
	for _, h := range sub.hits {
		if in.block {
			h.line += in.line
		} else {
			h.line = in.line
		}
		h.setting = "job " + w.id + " " + prefix + h.setting
		if h.scope != "" {
			h.scope = "job " + w.id + " " + prefix + h.scope
		}
		h.message += " (in the action's " + strings.TrimSpace(strings.TrimSuffix(prefix, " input ")) + " input)"
		w.r.add(h)
	}
}

func (w *jobWorkflow) anyone(v *node, sev checks.Severity, what string) {
	if v == nil || strings.TrimSpace(v.text()) != "*" {
		return
	}
	w.r.add(hit{rule: ruleGHA3, severity: sev, line: v.line, setting: "job " + w.id + " " + strings.SplitN(what, ":", 2)[0],
		message: fmt.Sprintf("Job `%s`: %s.", w.id, what)})
}

var allowedToolsFlag = regexp.MustCompile(`--allowed-?[Tt]ools[= ]+("[^"]*"|'[^']*'|\S+)`)

func (w *jobWorkflow) claudeArgs(v *node) {
	if v == nil {
		return
	}
	for _, m := range allowedToolsFlag.FindAllStringSubmatch(v.text(), -1) {
		w.claudeAllowList(v, strings.Trim(m[1], `"'`), lineWithin(v, m[0]))
	}
	w.cliFlags(v, "claude")
}

// splitToolList splits "Bash(a:*),Read Edit" on commas and spaces outside parentheses.
func splitToolList(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case (c == ',' || c == ' ' || c == '\n') && depth == 0:
			if t := strings.TrimSpace(s[start:i]); t != "" {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

func (w *jobWorkflow) claudeAllowList(v *node, list string, line int) {
	if v == nil {
		return
	}
	for _, t := range splitToolList(list) {
		g, ok := judgeClaudeAllow(t)
		if g.egress {
			w.egress = append(w.egress, &node{kind: scalarNode, line: line, str: t})
		}
		if g.shellAll {
			w.shellAll = true
		}
		if !ok {
			continue
		}
		w.r.add(hit{rule: ruleCC1, severity: g.severity, line: line, setting: "job " + w.id + " allowedTools " + t,
			scope: "job " + w.id + " allowedTools " + g.scope, breadth: g.breadth,
			message: fmt.Sprintf("Job `%s` lets Claude run without asking: `%s` %s.", w.id, t, g.what)})
	}
}

// cliFlags finds approval-bypass flags of agent CLIs in a run script or an args input
// (tool is the agent the input belongs to, "" for a run script).
func (w *jobWorkflow) cliFlags(v *node, tool string) {
	if v == nil {
		return
	}
	fromArgs := tool == "claude" // claude_args: --allowedTools was read by claudeArgs
	block := strings.Contains(v.text(), "\n")
	cont := ""
	for i, line := range strings.Split(runScript(v.text()), "\n") {
		at := v.line
		if block && (v.block || v.kind == scalarNode && i > 0) {
			at = v.line + i
			if v.block {
				at++
			}
		}
		m := agentCLI.FindStringSubmatch(line)
		cli := tool
		if m != nil {
			cli = strings.Fields(m[2])[0]
		} else if cont != "" {
			cli = cont // a continuation line of the agent command
		} else if tool == "" {
			continue
		}
		cont = ""
		if t := strings.TrimSpace(line); strings.HasSuffix(t, "\\") || strings.HasSuffix(t, "`") {
			cont = cli
		}
		f := strings.Fields(line)
		has := func(flags ...string) string {
			for _, x := range f {
				for _, fl := range flags {
					if x == fl || strings.HasPrefix(x, fl+"=") {
						return x
					}
				}
			}
			return ""
		}
		add := func(rule, flag, what string) {
			w.shellAll = true
			w.r.add(hit{rule: rule, severity: checks.SeverityHigh, line: at, setting: "job " + w.id + " " + cli + " " + flag,
				message: fmt.Sprintf("Job `%s` runs %s with `%s`: %s.", w.id, cli, flag, what)})
		}
		switch cli {
		case "claude":
			if x := has("--dangerously-skip-permissions"); x != "" {
				add(ruleCC2, x, "no permission prompt is ever shown")
			}
			if strings.Contains(line, "bypassPermissions") {
				add(ruleCC2, "--permission-mode bypassPermissions", "no permission prompt is ever shown")
			}
			if m := allowedToolsFlag.FindStringSubmatch(line); m != nil && !fromArgs {
				w.claudeAllowList(v, strings.Trim(m[1], `"'`), at)
			}
		case "codex":
			if x := has("--yolo", "--dangerously-bypass-approvals-and-sandbox"); x != "" {
				add(ruleCX1, x, "no approvals and no sandbox")
			}
			if strings.Contains(line, "danger-full-access") {
				add(ruleCX1, "danger-full-access", "commands run with no sandbox")
			}
		case "gemini":
			if x := has("--yolo", "-y"); x != "" || strings.Contains(line, "approval-mode=yolo") || strings.Contains(line, "approval-mode yolo") {
				add(ruleGM3, "--yolo", "every tool call is approved")
			}
		case "copilot":
			if x := has("--allow-all-tools", "--allow-all", "--yolo", "--allow-all-paths"); x != "" {
				add(ruleGHA3, x, "every tool, shell included, runs without a prompt")
			}
			for _, x := range f {
				if t := strings.Trim(strings.TrimPrefix(x, "--allow-tool="), `"'`); strings.HasPrefix(x, "--allow-tool=") && (t == "shell" || t == "write" || t == "*") {
					add(ruleGHA3, x, "that tool runs without a prompt")
				}
			}
			if i := strings.Index(line, "--allow-tool "); i >= 0 {
				if g := strings.Fields(line[i+len("--allow-tool "):]); len(g) > 0 {
					if t := strings.Trim(g[0], `"'`); t == "shell" || t == "write" || t == "*" {
						add(ruleGHA3, "--allow-tool "+t, "that tool runs without a prompt")
					}
				}
			}
		case "cursor-agent":
			if x := has("--force", "--yolo"); x != "" {
				add(ruleCU1, x, "every shell command is allowed unless explicitly denied")
			}
		case "q", "kiro-cli":
			if x := has("--trust-all-tools"); x != "" {
				add(ruleAQ1, x, "every tool, shell included, runs without a prompt")
			}
			if x := has("--trust-tools"); x != "" {
				for _, t := range strings.Split(strings.TrimPrefix(x, "--trust-tools="), ",") {
					if t == "execute_bash" || t == "fs_write" || t == "use_aws" || t == "*" {
						add(ruleAQ1, "--trust-tools="+t, "that tool runs without a prompt")
					}
				}
			}
		case "aider":
			if x := has("--yes-always"); x != "" {
				w.r.add(hit{rule: ruleAD1, severity: checks.SeverityMedium, line: v.line, setting: "job " + w.id + " aider --yes-always",
					message: "Aider `--yes-always` confirms every prompt, including shell commands."})
			}
		}
	}
}

// promptInjection finds untrusted text flowing into an agent's inputs or command line.
func (w *jobWorkflow) promptInjection(agents []agentStep) {
	sev := checks.SeverityHigh
	extra := ""
	switch {
	case w.shellAll:
		sev, extra = checks.SeverityCritical, " The agent also has an unrestricted shell or runs without approvals, so injected text becomes commands."
	case w.readOnly == len(agents) && !w.tokenWrites():
		// Severity follows what a steered agent can do: here only read the workspace and
		// use the token's issue and pull-request scopes, which the job grants on purpose.
		sev, extra = checks.SeverityMedium, " The agent's tools are read-only commands and the token cannot write code, hence medium."
	}
	for _, a := range agents {
		var inputs []*node
		if a.action {
			for _, key := range []string{"prompt", "direct_prompt", "override_prompt", "custom_instructions", "settings", "claude_args", "codex-args", "gemini_args"} {
				if v := a.step.get("with", key); v != nil {
					inputs = append(inputs, v)
				}
			}
		} else if run := a.step.get("run"); run != nil {
			inputs = append(inputs, run)
		}
		for _, v := range inputs {
			text := runScript(v.text())
			if m := untrustedExpr.FindString(text); m != "" {
				w.r.add(hit{rule: ruleGHA4, severity: sev, line: lineWithin(v, m), setting: "job " + w.id + " " + a.tool + " " + m,
					message: fmt.Sprintf("Job `%s` puts outsider-written text `%s` into the agent's input: whoever writes it instructs the agent.%s", w.id, m, extra)})
				continue
			}
			// Indirection through an earlier step's output that carries outsider text.
			if src := w.taintedRef(text); src != "" {
				ref := stepOutput.FindString(text)
				w.r.add(hit{rule: ruleGHA4, severity: sev, line: lineWithin(v, ref), setting: "job " + w.id + " " + a.tool + " " + ref,
					message: fmt.Sprintf("Job `%s` puts `%s` into the agent's input, and that output carries outsider-written text `%s`: whoever writes it instructs the agent.%s", w.id, ref, src, extra)})
				continue
			}
			// Indirection through env: run: goose run -t "$ISSUE_BODY" with ISSUE_BODY: ${{ github.event.issue.body }}.
			// Only a shell expands it: an action's input keeps `${ISSUE_BODY}` literal, and an
			// agent that reads the variable with a tool is the recommended pattern.
			if a.action {
				continue
			}
			for _, ref := range envRef.FindAllStringSubmatch(text, -1) {
				name := ref[1]
				if ref[2] != "" {
					name = ref[2]
				}
				ev := w.env(a.step, name)
				if ev == nil {
					continue
				}
				src := untrustedExpr.FindString(ev.text())
				if src == "" {
					src = w.taintedRef(ev.text())
				}
				if src != "" {
					w.r.add(hit{rule: ruleGHA4, severity: sev, line: v.line, setting: "job " + w.id + " " + a.tool + " $" + name + " " + src,
						message: fmt.Sprintf("Job `%s` passes `$%s` (set from `%s`) to the agent: whoever writes that text instructs the agent.%s", w.id, name, src, extra)})
				}
			}
		}
	}
	if w.untrusted {
		for _, e := range w.egress {
			w.r.add(hit{rule: ruleGHA4, severity: checks.SeverityHigh, line: e.line, setting: "job " + w.id + " egress " + e.str,
				message: fmt.Sprintf("Job `%s` runs on an untrusted trigger and lets the agent use `%s`: injected instructions can send secrets or code out.", w.id, e.str)})
		}
	}
}

// lineWithin is the file line of the first line of v's text that contains s: block
// scalars (run: |) start on the line after their key.
func lineWithin(v *node, s string) int {
	text := v.text()
	if !strings.Contains(text, "\n") {
		return v.line
	}
	i := strings.Index(text, s)
	if i < 0 {
		i = strings.Index(runScript(text), s)
	}
	if i < 0 {
		return v.line
	}
	n := v.line + strings.Count(text[:min(i, len(text))], "\n")
	if v.block {
		n++
	}
	return n
}

var envRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?|\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// tokenWrites reports a job token that can change code or releases (the writeScopes).
func (w *jobWorkflow) tokenWrites() bool {
	perms := w.job.get("permissions")
	if perms == nil {
		perms = w.root.get("permissions")
	}
	if perms == nil || perms.text() == "write-all" {
		return true
	}
	writes := false
	perms.each(func(scope string, v *node) {
		writes = writes || v.text() == "write" && writeScopes[scope]
	})
	return writes
}

// geminiReadTools are Gemini CLI core tools that only read the workspace.
var geminiReadTools = map[string]bool{"read_file": true, "read_many_files": true, "glob": true, "search_file_content": true, "list_directory": true,
	"ReadFileTool": true, "ReadManyFilesTool": true, "GlobTool": true, "GrepTool": true, "LSTool": true}

func readOnlyGeminiTool(tool, spec string, hasSpec bool) bool {
	if geminiReadTools[tool] {
		return true
	}
	if !geminiShellTools[tool] || !hasSpec {
		return false
	}
	return commandSpace(strings.Fields(spec)).class == capReadOnly
}

var workflowExpr = regexp.MustCompile(`\$\{\{[^}]*\}\}`)

// withoutExpressions replaces the workflow's ${{ }} expressions in an input by a neutral
// value, as the runner substitutes them before the action reads the input.
func withoutExpressions(s string) string {
	return workflowExpr.ReplaceAllString(s, "0")
}

// scriptInjection finds outsider-written text expanded straight into a run: script of the
// job that runs the agent: the runner substitutes it before the shell parses the script,
// so a crafted title or body runs commands in the job, with the agent's secrets and token.
func (w *jobWorkflow) scriptInjection(steps []*node, agents []agentStep) {
	for _, s := range steps {
		isAgent := false
		for _, a := range agents {
			isAgent = isAgent || a.step == s
		}
		run := s.get("run")
		if isAgent || run == nil || run.kind != scalarNode {
			continue // an agent's own run line is judged as its input above
		}
		if m := untrustedExpr.FindString(runScript(run.text())); m != "" {
			w.r.add(hit{rule: ruleGHA4, severity: checks.SeverityHigh, line: lineWithin(run, m), setting: "job " + w.id + " run script " + m,
				message: fmt.Sprintf("Job `%s` expands outsider-written text `%s` into a run: script beside its agent: a crafted value runs commands in the job, with the agent's secrets and token; pass it through `env:` and quote it.", w.id, m)})
		}
	}
}
