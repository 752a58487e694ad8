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
	for _, key := range []string{"mcpServers", "servers", "mcp_servers", "context_servers"} {
		mcpServers(r, root.get(key))
	}
}

// mcpServers checks each server of an MCP server map, or of a list of servers with a
// `name` (Continue YAML blocks).
func mcpServers(r *report, servers *node) {
	if servers != nil && servers.kind == listNode {
		for i, cfg := range servers.items {
			name := cfg.get("name").text()
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			mcpServer(r, name, cfg)
		}
		return
	}
	servers.each(func(name string, cfg *node) { mcpServer(r, name, cfg) })
}

// mcpServer checks one server: stdio `command`+`args` (Goose: `cmd`), `env` (Goose: `envs`), remote `url`.
func mcpServer(r *report, name string, cfg *node) {
	if cfg == nil || cfg.kind != mapNode {
		return
	}
	command := cfg.get("command")
	if command == nil {
		command = cfg.get("cmd")
	}
	args := cfg.get("args").list()
	argv := make([]*node, 0, len(args)+1)
	if command != nil {
		// "command": "npx -y pkg" is accepted by several clients: split it.
		for _, f := range strings.Fields(command.text()) {
			argv = append(argv, &node{kind: scalarNode, line: command.line, str: f, isStr: true})
		}
	}
	argv = append(argv, args...)
	argv = unwrapCmd(argv)
	mcpShell(r, name, argv)
	mcpFilesystemRoot(r, name, argv)
	secretSweep(r, cfg, "", name)
	mcpPlaintext(r, name, cfg)
	mcpPinning(r, name, argv)
	mcpAutoApprove(r, name, cfg)
}

// shellMeta are characters that make a command line a shell script rather than one command.
const shellMeta = "&|<>;^`$%()"

// unwrapCmd drops the `cmd /c` wrapper that Windows clients need to start npx, uvx or docker
// (Claude Code documents it); a wrapped line with shell operators stays a shell.
func unwrapCmd(argv []*node) []*node {
	if len(argv) < 3 {
		return argv
	}
	cmd := strings.ToLower(strings.TrimSuffix(pathBase(argv[0].text()), ".exe"))
	if cmd != "cmd" || !strings.EqualFold(argv[1].text(), "/c") {
		return argv
	}
	for _, a := range argv[2:] {
		if strings.ContainsAny(a.text(), shellMeta) {
			return argv
		}
	}
	if len(argv) == 3 { // "cmd /c npx -y pkg" as one string
		var out []*node
		for _, f := range strings.Fields(argv[2].text()) {
			out = append(out, &node{kind: scalarNode, line: argv[2].line, str: f, isStr: true})
		}
		return out
	}
	return argv[2:]
}

var shellServers = regexp.MustCompile(`(?i)desktop-commander|mcp-server-commands|mcp-shell|shell-mcp|mcp-server-shell|terminal-mcp|mcp-terminal|cli-mcp-server|mcp-server-bash|bash-mcp|iterm-mcp|win-cli-mcp|super-shell-mcp|mcp-server-terminal|command-runner-mcp|mcp-run-command`)

// shellScriptFlag is the flag that makes a shell run its next argument as a script.
func shellScriptFlag(shell, a string) bool {
	switch shell {
	case "cmd":
		return strings.EqualFold(a, "/c") || strings.EqualFold(a, "/k")
	case "powershell", "pwsh":
		l := strings.ToLower(a)
		return l == "-command" || l == "-c" || l == "-encodedcommand" || l == "-enc" || l == "-e" || l == "/c"
	}
	// sh family: -c, or combined short options such as -lc, -ec, -xc.
	if len(a) < 2 || a[0] != '-' || a[1] == '-' {
		return false
	}
	for _, c := range a[1:] {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return strings.ContainsRune(a[1:], 'c')
}

// shellReadsInput is a launcher script that executes text it reads at run time (the
// client's messages on stdin, a variable it evaluates) instead of a fixed command line.
var shellReadsInput = regexp.MustCompile(`\beval\b|\bread\s|\bxargs\b|/dev/stdin|\$\(\s*cat\s*\)|\b(ba|z|da|k)?sh\s+-s\b|\|\s*(sudo\s+)?(ba|z|da|k)?sh\s*($|[;&|)])|\bsource\s+/dev/`)

// scriptSegment splits a launcher script into its simple commands.
var scriptSegment = regexp.MustCompile(`&&|\|\||[;|\n]`)

func mcpShell(r *report, name string, argv []*node) {
	mcpShellDepth(r, name, argv, 0)
}

func mcpShellDepth(r *report, name string, argv []*node, depth int) {
	if len(argv) == 0 || depth > 3 {
		return
	}
	cmd := strings.ToLower(strings.TrimSuffix(pathBase(argv[0].text()), ".exe"))
	switch cmd {
	case "bash", "sh", "zsh", "dash", "ksh", "fish", "cmd", "powershell", "pwsh":
		// A shell is a shell server when it takes its commands from the client (no script,
		// `-s`, `-i`) or its script executes what it reads. A fixed launcher script (cd, log
		// in, exec a committed file or a pinned package) runs no model-supplied text: only
		// the commands it launches are judged.
		script, flag, file := "", "", false
		for i, a := range argv[1:] {
			t := a.text()
			if shellScriptFlag(cmd, t) {
				flag = t
				if i+2 < len(argv) {
					script = argv[i+2].text()
				}
				break
			}
			if t == "-s" || t == "-i" {
				break // commands from standard input
			}
			if !strings.HasPrefix(t, "-") {
				file = true // a script file of the repository
				break
			}
		}
		switch {
		case flag == "" && !file:
			r.add(hit{rule: ruleMCP1, severity: checks.SeverityHigh, line: argv[0].line, setting: "mcp " + name + " shell " + cmd + " stdin",
				message: fmt.Sprintf("MCP server `%s` is a bare `%s` reading its commands from standard input: whatever the client sends is run.", name, cmd)})
		case flag != "" && (shellReadsInput.MatchString(script) || remoteExec.MatchString(script)):
			what := "executes the text it reads at run time"
			if remoteExec.MatchString(script) {
				what = "downloads a script and runs it at every start"
			}
			r.add(hit{rule: ruleMCP1, severity: checks.SeverityHigh, line: argv[0].line, setting: "mcp " + name + " shell " + cmd + " " + flag,
				message: fmt.Sprintf("MCP server `%s` is started through `%s %s` with a script that %s: the server can run anything.", name, cmd, flag, what)})
		case flag != "":
			for _, seg := range scriptSegment.Split(script, -1) {
				f := strings.Fields(strings.NewReplacer(`"`, " ", `'`, " ", "(", " ", ")", " ").Replace(seg))
				for len(f) > 0 && (f[0] == "exec" || strings.Contains(f[0], "=") && !strings.HasPrefix(f[0], "-")) {
					f = f[1:]
				}
				sub := make([]*node, 0, len(f))
				for _, w := range f {
					sub = append(sub, &node{kind: scalarNode, line: argv[0].line, str: w, isStr: true})
				}
				mcpShellDepth(r, name, sub, depth+1)
			}
		}
	case "docker", "podman", "nerdctl":
		for i := 1; i < len(argv); i++ {
			a := argv[i]
			flag, val := a.text(), ""
			if j := strings.IndexByte(flag, '='); strings.HasPrefix(flag, "--") && j > 0 {
				flag, val = flag[:j], flag[j+1:]
			} else if i+1 < len(argv) {
				val = argv[i+1].text()
			}
			why := ""
			switch flag {
			case "--privileged":
				why = "runs privileged"
			case "--pid", "--ipc", "--uts", "--userns":
				if val == "host" {
					why = "shares the host " + strings.TrimPrefix(flag, "--") + " namespace"
				}
			case "--network", "--net":
				if val == "host" {
					why = "shares the host network"
				}
			case "--cap-add":
				if v := strings.TrimPrefix(strings.ToUpper(val), "CAP_"); v == "ALL" || v == "SYS_ADMIN" || v == "SYS_PTRACE" || v == "SYS_MODULE" || v == "DAC_READ_SEARCH" {
					why = "adds capability " + val
				}
			case "--security-opt":
				if strings.HasSuffix(val, "=unconfined") || strings.HasSuffix(val, ":unconfined") {
					why = "turns off confinement (" + val + ")"
				}
			case "-v", "--volume", "--mount":
				if src := mountSource(flag, val); src != "" {
					if strings.Contains(src, "docker.sock") {
						why = "mounts the Docker socket (root on the host)"
					} else if hostRootMount(src) {
						why = "mounts the host's " + src + " into the container"
					}
				}
			}
			if why != "" {
				r.add(hit{rule: ruleMCP1, severity: checks.SeverityCritical, line: a.line, setting: "mcp " + name + " container " + flag + " " + val,
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

// hostRootMount is a bind mount that hands the container the host: `/`, a home folder,
// or a system tree. A named folder inside home (`~/.mcp/gdrive`, `/Users/a/notes`) is what
// the server is meant to see and is not host power.
func hostRootMount(src string) bool {
	t := strings.TrimRight(strings.ReplaceAll(src, "\\", "/"), "/")
	for _, home := range []string{"${HOME}", "$HOME", "${env:HOME}", "%USERPROFILE%", "${userHome}"} {
		if strings.HasPrefix(t, home) {
			t = "~" + t[len(home):]
		}
	}
	switch t {
	case "", "~", "/home", "/Users", "/root", "/etc", "/usr", "/var", "/proc", "/sys", "/dev", "/boot", "/bin", "/sbin", "/lib", "/private", "/mnt", "/Volumes":
		return true
	}
	if len(t) == 2 && t[1] == ':' { // C:
		return true
	}
	for _, pre := range []string{"/home/", "/Users/"} {
		if rest, ok := strings.CutPrefix(t, pre); ok && !strings.Contains(rest, "/") {
			return true // /home/alice itself
		}
	}
	return false
}

// mountSource is the host side of a -v/--volume or --mount value ("" for a named volume).
func mountSource(flag, val string) string {
	if flag == "--mount" {
		for _, kv := range strings.Split(val, ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "src" || k == "source" {
				return v
			}
		}
		return ""
	}
	if len(val) > 2 && val[1] == ':' && (val[2] == '\\' || val[2] == '/') { // C:\x:/y
		if i := strings.IndexByte(val[2:], ':'); i >= 0 {
			return val[:2+i]
		}
		return val
	}
	if i := strings.IndexByte(val, ':'); i >= 0 {
		return val[:i]
	}
	return val
}

func mcpFilesystemRoot(r *report, name string, argv []*node) {
	fs := -1
	for i, a := range argv {
		if t := a.text(); strings.Contains(t, "server-filesystem") || strings.Contains(t, "filesystem-mcp") || strings.Contains(t, "mcp-filesystem") || strings.Contains(t, "mcp/filesystem") || strings.Contains(t, "fast-filesystem") {
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
		if t == "/" || broadDirectory(t) {
			r.add(hit{rule: ruleMCP2, severity: checks.SeverityHigh, line: a.line, setting: "mcp " + name + " filesystem root " + t,
				message: fmt.Sprintf("Filesystem MCP server `%s` is rooted at `%s`: SSH keys, cloud credentials and other repositories become readable (and writable).", name, t)})
		}
	}
}

// credential matches literal tokens of well-known formats; a value holding a variable reference never matches.
var credential = regexp.MustCompile(`(ghp_|gho_|ghu_|ghs_|ghr_)[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|sk-ant-[A-Za-z0-9_\-]{20,}|sk-(proj-)?[A-Za-z0-9_\-]{20,}|AIza[0-9A-Za-z_\-]{35}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,}|(sk|rk)_live_[A-Za-z0-9]{20,}|pypi-[A-Za-z0-9_\-]{50,}|xox[abposr]-[A-Za-z0-9\-]{10,}|AKIA[0-9A-Z]{16}|glpat-[A-Za-z0-9_\-]{20}|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}|(?i:bearer|token)\s+[A-Za-z0-9_\-\.=]{20,}`)

// variableRef is a value taken from the environment or a prompt at run time.
var variableRef = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_:\-]*\}?|\$\{\{|\{env:|%[A-Z_]+%`)

func literalCredential(v string) (string, bool) {
	m := credential.FindString(v)
	if m == "" || variableRef.MatchString(m) {
		return "", false
	}
	return m, true
}

// mcpPlaintext flags a remote server reached over plain http off the machine: its url, or
// an endpoint passed to a proxy in its args (`npx mcp-remote http://...`).
func mcpPlaintext(r *report, name string, cfg *node) {
	var urls []*node
	for _, key := range []string{"url", "httpUrl", "serverUrl", "uri"} {
		if u := cfg.get(key); u != nil {
			urls = append(urls, u)
		}
	}
	for _, a := range cfg.get("args").list() {
		if strings.HasPrefix(strings.TrimSpace(a.text()), "http://") {
			urls = append(urls, a)
		}
	}
	for _, u := range urls {
		pu, err := url.Parse(strings.TrimSpace(u.text()))
		if err != nil || pu.Scheme != "http" || loopback(pu.Hostname()) || variableRef.MatchString(pu.Host) {
			continue
		}
		r.add(hit{rule: ruleMCP3, severity: checks.SeverityHigh, line: u.line, setting: "mcp " + name + " plaintext " + pu.Host,
			message: fmt.Sprintf("MCP server `%s` is reached over plain http at `%s`: tokens and tool results cross the network unencrypted.", name, pu.Host)})
	}
}

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1" || host == "0.0.0.0" || strings.HasSuffix(host, ".localhost") || host == "host.docker.internal"
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
	"--env-file": true, "-l": true, "--label": true, "--platform": true, "--pid": true, "--cpus": true, "-m": true, "--memory": true, "--add-host": true,
	"--cap-add": true, "--cap-drop": true, "--security-opt": true, "--device": true, "--tmpfs": true, "--ulimit": true, "--ipc": true, "--uts": true,
	"--userns": true, "--log-driver": true, "--log-opt": true, "--restart": true, "-h": true, "--hostname": true, "--dns": true, "--shm-size": true,
	"--gpus": true, "--runtime": true, "--pull": true, "--stop-signal": true, "--health-cmd": true, "--group-add": true, "--cidfile": true, "--label-file": true}

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
	if cmd == "uv" && len(rest) > 1 && rest[0].text() == "tool" && rest[1].text() == "run" {
		cmd, rest = "uvx", rest[2:]
	}
	if cmd == "npm" && len(rest) > 0 && (rest[0].text() == "exec" || rest[0].text() == "x") {
		cmd, rest = "npx", rest[1:]
	}
	var pkg *node
	pinned := true
	switch cmd {
	case "npx", "bunx":
		pkg = flagValue(rest, "-p", "--package")
		if pkg == nil {
			pkg = firstPositional(rest, map[string]bool{"-p": true, "--package": true, "--node-options": true, "--registry": true, "--cache": true})
		}
		if pkg != nil {
			s := pkg.text()
			at := strings.LastIndexByte(s, '@')
			pinned = at > 0 && exactVersion.MatchString(s[at+1:]) || localPackage(s)
		}
	case "uvx":
		pkg = flagValue(rest, "--from")
		if pkg == nil {
			pkg = firstPositional(rest, map[string]bool{"--from": true, "--with": true, "--python": true, "-p": true, "--index-url": true, "--index": true})
		}
		if pkg != nil {
			s := pkg.text()
			if i := strings.Index(s, "=="); i > 0 {
				pinned = exactVersion.MatchString(s[i+2:])
			} else if at := strings.LastIndexByte(s, '@'); at > 0 && !strings.Contains(s, "://") {
				pinned = exactVersion.MatchString(s[at+1:]) // uvx pkg@1.2.3
			} else {
				pinned = localPackage(s)
			}
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

// flagValue is the value of the first of flags ("--from x" or "--from=x").
func flagValue(args []*node, flags ...string) *node {
	for i, a := range args {
		for _, f := range flags {
			if a.text() == f && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a.text(), f+"="); ok {
				return &node{kind: scalarNode, line: a.line, str: v, isStr: true}
			}
		}
	}
	return nil
}

// localPackage is a path or file the repository holds, not a registry package.
func localPackage(s string) bool {
	return strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "file:") || strings.HasSuffix(s, ".tgz") || strings.HasSuffix(s, ".whl")
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

// mcpReadVerbs and mcpWriteVerbs classify a tool by its first verb (get_issue, create_issue);
// mcpExecWords mark a tool that runs commands wherever they appear in its name.
var (
	mcpReadVerbs = map[string]bool{"get": true, "list": true, "search": true, "read": true, "fetch": true, "query": true, "find": true, "describe": true,
		"show": true, "view": true, "check": true, "count": true, "lookup": true, "inspect": true, "explain": true, "diff": true, "log": true, "status": true,
		"analyze": true, "summarize": true, "resolve": true, "retrieve": true, "browse": true, "stat": true, "info": true, "download": true, "screenshot": true,
		"snapshot": true, "directory": true, "tree": true, "head": true, "tail": true, "sequentialthinking": true, "think": true}
	mcpWriteVerbs = map[string]bool{"write": true, "edit": true, "delete": true, "remove": true, "merge": true, "push": true, "create": true, "update": true,
		"exec": true, "execute": true, "run": true, "deploy": true, "move": true, "rename": true, "insert": true, "drop": true, "kill": true, "send": true,
		"post": true, "put": true, "patch": true, "set": true, "add": true, "upload": true, "commit": true, "fork": true, "approve": true, "close": true,
		"lock": true, "transfer": true, "invoke": true, "eval": true, "evaluate": true, "apply": true, "trigger": true, "cancel": true, "rerun": true,
		"dispatch": true, "start": true, "stop": true, "restart": true, "install": true, "uninstall": true, "modify": true, "replace": true, "append": true,
		"mkdir": true, "rm": true, "mv": true, "cp": true, "copy": true, "clear": true, "reset": true, "revert": true, "publish": true, "release": true,
		"archive": true, "assign": true, "comment": true, "reply": true, "submit": true, "navigate": true, "click": true, "type": true, "fill": true,
		"press": true, "drag": true, "select": true, "manage": true, "save": true, "store": true, "destroy": true, "terminate": true, "scale": true}
	mcpExecWords = map[string]bool{"command": true, "commands": true, "shell": true, "terminal": true, "exec": true, "execute": true, "bash": true,
		"sudo": true, "powershell": true, "cmd": true, "script": true, "process": true, "eval": true}
	camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// execTool reports an MCP tool name that runs commands (write_to_terminal, run_command).
func execTool(name string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(camelBoundary.ReplaceAllString(name, "${1}_${2}")), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
	}) {
		if mcpExecWords[w] {
			return true
		}
	}
	return false
}

// mutatingTool reports an MCP tool name that changes things or runs commands.
func mutatingTool(name string) bool {
	words := strings.FieldsFunc(strings.ToLower(camelBoundary.ReplaceAllString(name, "${1}_${2}")), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
	})
	for _, w := range words {
		if mcpExecWords[w] {
			return true
		}
	}
	for _, w := range words {
		if mcpReadVerbs[w] {
			return false
		}
		if mcpWriteVerbs[w] {
			return true
		}
	}
	return false
}

func mcpAutoApprove(r *report, name string, cfg *node) {
	if t := cfg.get("trust"); t.truthy() {
		r.add(hit{rule: ruleMCP5, severity: checks.SeverityHigh, line: t.line, setting: "mcp " + name + " trust",
			message: fmt.Sprintf("MCP server `%s` has `trust: true`: every tool call it offers runs without confirmation.", name)})
	}
	for _, key := range []string{"autoApprove", "alwaysAllow", "auto_approve"} {
		v := cfg.get(key)
		if v.truthy() {
			r.add(hit{rule: ruleMCP5, severity: checks.SeverityHigh, line: v.line, setting: "mcp " + name + " " + key + " true",
				message: fmt.Sprintf("MCP server `%s` has `%s: true`: every tool call it offers runs without asking.", name, key)})
			continue
		}
		for _, it := range v.list() {
			if t := it.text(); t == "*" || mutatingTool(t) {
				r.add(hit{rule: ruleMCP5, severity: checks.SeverityHigh, line: it.line, setting: "mcp " + name + " " + key + " " + t,
					message: fmt.Sprintf("MCP server `%s` auto-approves `%s`, a tool that changes things, without asking.", name, t)})
			}
		}
	}
}
