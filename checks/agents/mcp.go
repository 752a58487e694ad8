package agents

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// mcpFile checks the MCP servers of a file, under whichever key its tool uses.
func mcpFile(r *report, root *node) {
	for _, key := range []string{"mcpServers", "servers", "mcp_servers"} {
		mcpServers(r, root.get(key))
	}
}

// mcpServers checks each server of an MCP server map.
func mcpServers(r *report, servers *node) {
	servers.each(func(name string, cfg *node) {
		if cfg == nil || cfg.kind != mapNode {
			return
		}
		command := cfg.get("command")
		args := cfg.get("args").list()
		argv := make([]*node, 0, len(args)+1)
		if command != nil {
			// "command": "npx -y pkg" is accepted by several clients: split it.
			for _, f := range strings.Fields(command.text()) {
				argv = append(argv, &node{kind: scalarNode, line: command.line, str: f, isStr: true})
			}
		}
		argv = append(argv, args...)
		mcpShell(r, name, argv)
		mcpFilesystemRoot(r, name, argv)
		mcpSecrets(r, name, cfg, args)
		mcpPinning(r, name, argv)
		mcpAutoApprove(r, name, cfg)
	})
}

var shellServers = regexp.MustCompile(`(?i)desktop-commander|mcp-server-commands|mcp-shell|shell-mcp|mcp-server-shell|terminal-mcp|mcp-terminal|cli-mcp-server|mcp-server-bash|bash-mcp`)

func mcpShell(r *report, name string, argv []*node) {
	if len(argv) == 0 {
		return
	}
	cmd := strings.ToLower(strings.TrimSuffix(pathBase(argv[0].text()), ".exe"))
	switch cmd {
	case "bash", "sh", "zsh", "cmd", "powershell", "pwsh":
		for _, a := range argv[1:] {
			switch a.text() {
			case "-c", "/c", "/C", "-Command", "-command":
				r.add(hit{rule: ruleMCP1, severity: checks.SeverityHigh, line: argv[0].line, setting: "mcp " + name + " shell " + cmd + " " + a.text(),
					message: fmt.Sprintf("MCP server `%s` is started through `%s %s`: the command line is a shell script, and the server can run anything.", name, cmd, a.text())})
				return
			}
		}
	case "docker", "podman":
		for i, a := range argv[1:] {
			t := a.text()
			next := ""
			if i+2 < len(argv) {
				next = argv[i+2].text()
			}
			why := ""
			switch {
			case t == "--privileged":
				why = "runs privileged"
			case t == "--pid=host" || (t == "--pid" && next == "host"):
				why = "shares the host PID namespace"
			case t == "--network=host" || t == "--net=host" || ((t == "--network" || t == "--net") && next == "host"):
				why = "shares the host network"
			case strings.Contains(t, "/var/run/docker.sock") || strings.Contains(t, "/run/docker.sock"):
				why = "mounts the Docker socket (root on the host)"
			case (t == "-v" || t == "--volume") && (strings.HasPrefix(next, "/:") || strings.HasPrefix(next, "~:") || strings.HasPrefix(next, "$HOME:")):
				why = "mounts the host's " + strings.SplitN(next, ":", 2)[0] + " into the container"
			}
			if why != "" {
				r.add(hit{rule: ruleMCP1, severity: checks.SeverityCritical, line: a.line, setting: "mcp " + name + " container " + t + " " + next,
					message: fmt.Sprintf("MCP server `%s` %s: the agent gets the host.", name, why)})
			}
		}
	}
	for _, a := range argv {
		if shellServers.MatchString(a.text()) {
			r.add(hit{rule: ruleMCP1, severity: checks.SeverityHigh, line: a.line, setting: "mcp " + name + " shell-server " + packageName(a.text()),
				message: fmt.Sprintf("MCP server `%s` (`%s`) exists to run arbitrary terminal commands.", name, a.text())})
			return
		}
	}
}

func mcpFilesystemRoot(r *report, name string, argv []*node) {
	fs := -1
	for i, a := range argv {
		if strings.Contains(a.text(), "server-filesystem") || strings.Contains(a.text(), "filesystem-mcp") || strings.Contains(a.text(), "mcp-filesystem") {
			fs = i
			break
		}
	}
	if fs < 0 {
		return
	}
	for _, a := range argv[fs+1:] {
		t := strings.TrimSpace(a.text())
		if strings.HasPrefix(t, "-") {
			continue
		}
		if t == "/" || broadDirectory(t) || strings.EqualFold(strings.TrimRight(t, "\\/"), "C:") {
			r.add(hit{rule: ruleMCP2, severity: checks.SeverityHigh, line: a.line, setting: "mcp " + name + " filesystem root " + t,
				message: fmt.Sprintf("Filesystem MCP server `%s` is rooted at `%s`: SSH keys, cloud credentials and other repositories become readable (and writable).", name, t)})
		}
	}
}

// credential matches literal tokens of well-known formats; a value holding a variable reference never matches.
var credential = regexp.MustCompile(`(ghp_|gho_|ghu_|ghs_|ghr_)[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|sk-ant-[A-Za-z0-9_\-]{20,}|sk-(proj-)?[A-Za-z0-9_\-]{20,}|xox[abposr]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_\-]{20}|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}|(?i:bearer|token)\s+[A-Za-z0-9_\-\.=]{20,}`)

// variableRef is a value taken from the environment or a prompt at run time.
var variableRef = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_:\-]*\}?|\{env:|%[A-Z_]+%`)

func literalCredential(v string) (string, bool) {
	m := credential.FindString(v)
	if m == "" || variableRef.MatchString(m) {
		return "", false
	}
	return m, true
}

func mcpSecrets(r *report, name string, cfg *node, args []*node) {
	check := func(where string, v *node) {
		if m, ok := literalCredential(v.text()); ok {
			r.add(hit{rule: ruleMCP3, severity: checks.SeverityCritical, line: v.line, setting: "mcp " + name + " credential " + where,
				message: fmt.Sprintf("MCP server `%s` has a literal credential in %s (%s): it is in the repository for every reader and stays in history.", name, where, checks.Redact(m))})
		}
	}
	for _, key := range []string{"env", "headers", "http_headers"} {
		cfg.get(key).each(func(k string, v *node) { check(key+"."+k, v) })
	}
	for i, a := range args {
		check(fmt.Sprintf("args[%d]", i), a)
	}
	for _, key := range []string{"url", "httpUrl", "serverUrl"} {
		u := cfg.get(key)
		if u == nil {
			continue
		}
		pu, err := url.Parse(strings.TrimSpace(u.text()))
		if err != nil || pu.Scheme != "http" || loopback(pu.Hostname()) || variableRef.MatchString(pu.Host) {
			continue
		}
		r.add(hit{rule: ruleMCP3, severity: checks.SeverityHigh, line: u.line, setting: "mcp " + name + " plaintext " + pu.Host,
			message: fmt.Sprintf("MCP server `%s` is reached over plain http at `%s`: tokens and tool results cross the network unencrypted.", name, pu.Host)})
	}
}

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1" || host == "0.0.0.0" || strings.HasSuffix(host, ".localhost")
}

var exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+([\-+][0-9A-Za-z.\-]+)?$`)

// packageName strips the version from "pkg@1.2.3", "@scope/pkg@1", "pkg==1.0".
func packageName(s string) string {
	if i := strings.Index(s, "=="); i > 0 {
		return s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		return s[:i]
	}
	return s
}

// dockerValueFlags take the next argument as their value.
var dockerValueFlags = map[string]bool{"-e": true, "--env": true, "-v": true, "--volume": true, "-p": true, "--publish": true, "--name": true,
	"--network": true, "--net": true, "--mount": true, "-w": true, "--workdir": true, "--entrypoint": true, "-u": true, "--user": true,
	"--env-file": true, "-l": true, "--label": true, "--platform": true, "--pid": true, "--cpus": true, "-m": true, "--memory": true, "--add-host": true}

func mcpPinning(r *report, name string, argv []*node) {
	if len(argv) == 0 {
		return
	}
	cmd := strings.TrimSuffix(pathBase(argv[0].text()), ".cmd")
	rest := argv[1:]
	if (cmd == "pnpm" || cmd == "yarn") && len(rest) > 0 && rest[0].text() == "dlx" {
		cmd, rest = "npx", rest[1:]
	}
	if cmd == "pipx" && len(rest) > 0 && rest[0].text() == "run" {
		cmd, rest = "uvx", rest[1:]
	}
	var pkg *node
	pinned := true
	switch cmd {
	case "npx", "bunx":
		pkg = firstPositional(rest, map[string]bool{"-p": true, "--package": true})
		if pkg != nil {
			s := pkg.text()
			at := strings.LastIndexByte(s, '@')
			pinned = at > 0 && exactVersion.MatchString(s[at+1:])
		}
	case "uvx":
		pkg = firstPositional(rest, map[string]bool{"--from": true, "--with": true, "--python": true, "-p": true})
		if pkg != nil {
			s := pkg.text()
			i := strings.Index(s, "==")
			pinned = i > 0 && exactVersion.MatchString(s[i+2:])
		}
	case "docker", "podman":
		if len(rest) == 0 || rest[0].text() != "run" {
			return
		}
		pkg = firstPositional(rest[1:], dockerValueFlags)
		if pkg != nil {
			s := pkg.text()
			if strings.Contains(s, "@sha256:") {
				break
			}
			tag := ""
			if i := strings.LastIndexByte(s, ':'); i > strings.LastIndexByte(s, '/') {
				tag = s[i+1:]
			}
			pinned = tag != "" && tag != "latest"
		}
	default:
		return
	}
	if pkg == nil || pinned {
		return
	}
	r.add(hit{rule: ruleMCP4, severity: checks.SeverityLow, line: pkg.line, setting: "mcp " + name + " unpinned " + packageName(pkg.text()),
		message: fmt.Sprintf("MCP server `%s` starts `%s` without an exact version or digest: every start may run code nobody reviewed.", name, pkg.text())})
}

// firstPositional is the first argument that is not a flag (nor a flag's value).
func firstPositional(args []*node, valueFlags map[string]bool) *node {
	for i := 0; i < len(args); i++ {
		t := args[i].text()
		if strings.HasPrefix(t, "-") {
			if valueFlags[t] {
				i++
			}
			continue
		}
		return args[i]
	}
	return nil
}

var writeTool = regexp.MustCompile(`(?i)write|edit|delete|remove|merge|push|create|update|exec|run|shell|command|bash|terminal|deploy`)

func mcpAutoApprove(r *report, name string, cfg *node) {
	if t := cfg.get("trust"); t.truthy() {
		r.add(hit{rule: ruleMCP5, severity: checks.SeverityHigh, line: t.line, setting: "mcp " + name + " trust",
			message: fmt.Sprintf("MCP server `%s` has `trust: true`: every tool call it offers runs without confirmation.", name)})
	}
	for _, key := range []string{"autoApprove", "alwaysAllow"} {
		for _, it := range cfg.get(key).list() {
			if it.text() == "*" || writeTool.MatchString(it.text()) {
				r.add(hit{rule: ruleMCP5, severity: checks.SeverityHigh, line: it.line, setting: "mcp " + name + " " + key + " " + it.text(),
					message: fmt.Sprintf("MCP server `%s` auto-approves `%s`, a tool that changes things, without asking.", name, it.text())})
			}
		}
	}
}
