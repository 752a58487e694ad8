package agents

import "strings"

// capClass is what a command may do when the agent chooses the rest of its arguments
// (an allow rule's argument space: `Bash(git status)` is one command, `Bash(git:*)` every
// git command). The classes are ordered; flagged ones are those an allow rule must not
// hand out without a prompt.
type capClass int

const (
	capReadOnly      capClass = iota // reads and prints: git status, ls, docker ps, bash -n
	capWorkspace                     // changes the workspace only: formatters, git commit, go test
	capRemote                        // talks to the project's own remotes: git push, gh pr
	capNetwork                       // reaches any host or API with the user's credentials: curl, gh api
	capWritesOutside                 // writes or destroys outside the workspace: rm, chmod, dd
	capRunsCode                      // runs arbitrary code or commands: find -exec, sed e, xargs, git -c
)

func (c capClass) flagged() bool { return c >= capNetwork }

// capability is the judgement of one command's argument space.
type capability struct {
	class capClass
	cmd   string // the command (and subcommand) judged, for the message
	why   string // what makes it that class
}

// targetSubcommands take one script, package or file, and run anything only while that
// target is free (`npm run *`, not `npm run test *`).
var targetSubcommands = map[string]bool{"npm exec": true, "npm x": true, "npm run": true, "npm run-script": true, "pnpm dlx": true, "pnpm exec": true,
	"pnpm run": true, "yarn dlx": true, "yarn exec": true, "yarn run": true, "cargo run": true, "go run": true}

// anyArgs are commands whose free arguments alone make them run code, reach any host or
// write anywhere, whatever fixed arguments come first: `find . -name *` still takes -exec.
var anyArgs = map[string]capability{
	"sudo": {capRunsCode, "sudo", "runs any command as root"}, "su": {capRunsCode, "su", "runs any command as another user"},
	"doas": {capRunsCode, "doas", "runs any command as root"}, "eval": {capRunsCode, "eval", "runs any command"},
	"exec": {capRunsCode, "exec", "runs any command"}, "xargs": {capRunsCode, "xargs", "runs any command on its input"},
	"env": {capRunsCode, "env", "runs any command with any environment"}, "source": {capRunsCode, "source", "runs any file as shell code"},
	".": {capRunsCode, ".", "runs any file as shell code"}, "find": {capRunsCode, "find", "runs any command through -exec/-execdir (and deletes with -delete)"},
	"sed": {capRunsCode, "sed", "runs commands through GNU sed's `e` command and writes any file with `w`"},
	"awk": {capRunsCode, "awk", "runs commands through system() and pipes"}, "gawk": {capRunsCode, "gawk", "runs commands through system() and pipes"},
	"mawk": {capRunsCode, "mawk", "runs commands through system() and pipes"}, "nawk": {capRunsCode, "nawk", "runs commands through system() and pipes"},
	"curl": {capNetwork, "curl", "downloads from and uploads to any host"}, "wget": {capNetwork, "wget", "downloads from and uploads to any host"},
	"nc": {capNetwork, "nc", "opens connections to any host"}, "ncat": {capNetwork, "ncat", "opens connections to any host"},
	"socat": {capNetwork, "socat", "opens connections to any host"}, "ssh": {capRunsCode, "ssh", "runs commands on any host"},
	"scp": {capNetwork, "scp", "copies files to and from any host"}, "rsync": {capNetwork, "rsync", "copies files to and from any host"},
	"sftp": {capNetwork, "sftp", "copies files to and from any host"}, "ftp": {capNetwork, "ftp", "copies files to and from any host"},
	"telnet": {capNetwork, "telnet", "opens connections to any host"},
	"rm":     {capWritesOutside, "rm", "deletes any file"}, "chmod": {capWritesOutside, "chmod", "changes the mode of any file"},
	"chown": {capWritesOutside, "chown", "changes the owner of any file"}, "dd": {capWritesOutside, "dd", "writes any file or device"},
	"aws-vault": {capRunsCode, "aws-vault", "runs any command with AWS credentials (`exec`)"},
}

// subcommandTools are judged by their first fixed argument. free is the class when the
// subcommand itself is free (`git *`); other is the class of a subcommand not listed.
type subcommandTool struct {
	free  capability
	sub   map[string]capability
	other capClass
}

var subcommandTools = map[string]subcommandTool{
	"git": {capability{capRunsCode, "git", "runs any command through `-c core.sshCommand=`, `-c alias.x=!cmd` or `core.fsmonitor`"},
		map[string]capability{
			"-c":            {capRunsCode, "git -c", "sets any configuration for the command, `core.sshCommand` and `!` aliases included"},
			"config":        {capRunsCode, "git config", "sets hooks paths, `core.fsmonitor`, `core.sshCommand` or aliases that run commands"},
			"rebase":        {capRunsCode, "git rebase", "runs any command through `--exec`"},
			"submodule":     {capRunsCode, "git submodule", "runs any command through `foreach`"},
			"bisect":        {capRunsCode, "git bisect", "runs any command through `bisect run`"},
			"filter-branch": {capRunsCode, "git filter-branch", "runs any command through its filters"},
			"push":          {capRemote, "git push", ""}, "fetch": {capRemote, "git fetch", ""}, "pull": {capRemote, "git pull", ""},
			"clone": {capRemote, "git clone", ""}, "ls-remote": {capRemote, "git ls-remote", ""},
			"status": {capReadOnly, "git status", ""}, "log": {capReadOnly, "git log", ""}, "diff": {capReadOnly, "git diff", ""},
			"show": {capReadOnly, "git show", ""}, "blame": {capReadOnly, "git blame", ""}, "rev-parse": {capReadOnly, "git rev-parse", ""},
		}, capWorkspace},
	"gh": {capability{capNetwork, "gh", "calls any GitHub API with the user's token (`gh api`) and installs extensions"},
		map[string]capability{
			"api":       {capNetwork, "gh api", "calls any GitHub API endpoint with the user's token: writes, deletes and secrets included"},
			"extension": {capRunsCode, "gh extension", "installs and runs any extension"}, "ext": {capRunsCode, "gh ext", "installs and runs any extension"},
		}, capRemote},
	"docker": containerTool("docker"), "podman": containerTool("podman"), "nerdctl": containerTool("nerdctl"),
	"pip": pipTool("pip"), "pip3": pipTool("pip3"),
	"npm": {capability{capRunsCode, "npm", "runs any script and installs any package (install scripts run)"},
		map[string]capability{
			"install": {capRunsCode, "npm install", "installs any package, and install scripts run"}, "i": {capRunsCode, "npm i", "installs any package, and install scripts run"},
			"add": {capRunsCode, "npm add", "installs any package, and install scripts run"}, "exec": {capRunsCode, "npm exec", "runs any package"},
			"x": {capRunsCode, "npm x", "runs any package"}, "run": {capRunsCode, "npm run", "runs any script"}, "run-script": {capRunsCode, "npm run-script", "runs any script"},
		}, capWorkspace},
	"pnpm": {capability{capRunsCode, "pnpm", "runs any script and installs any package"},
		map[string]capability{
			"add": {capRunsCode, "pnpm add", "installs any package, and install scripts run"}, "install": {capRunsCode, "pnpm install", "installs any package, and install scripts run"},
			"i": {capRunsCode, "pnpm i", "installs any package, and install scripts run"}, "dlx": {capRunsCode, "pnpm dlx", "runs any package"},
			"exec": {capRunsCode, "pnpm exec", "runs any command"}, "run": {capRunsCode, "pnpm run", "runs any script"},
		}, capWorkspace},
	"yarn": {capability{capRunsCode, "yarn", "runs any script and installs any package"},
		map[string]capability{
			"add": {capRunsCode, "yarn add", "installs any package, and install scripts run"}, "dlx": {capRunsCode, "yarn dlx", "runs any package"},
			"exec": {capRunsCode, "yarn exec", "runs any command"}, "run": {capRunsCode, "yarn run", "runs any script"},
		}, capWorkspace},
	"cargo": {capability{capRunsCode, "cargo", "installs and runs any crate (`cargo install`, `cargo run`)"},
		map[string]capability{
			"install": {capRunsCode, "cargo install", "builds any crate, and its build script runs"}, "run": {capRunsCode, "cargo run", "runs any binary"},
		}, capWorkspace},
	"go": {capability{capRunsCode, "go", "runs any program (`go run pkg@version`, `go generate`)"},
		map[string]capability{
			"run": {capRunsCode, "go run", "runs any package, remote ones included"}, "generate": {capRunsCode, "go generate", "runs the commands of any `//go:generate` line"},
		}, capWorkspace},
	"pre-commit": {capability{capRunsCode, "pre-commit", "runs hooks from any repository (`try-repo`)"},
		map[string]capability{"try-repo": {capRunsCode, "pre-commit try-repo", "runs hooks from any repository"}}, capWorkspace},
}

func containerTool(name string) subcommandTool {
	ro := map[string]capability{}
	for _, s := range []string{"ps", "images", "logs", "inspect", "version", "info", "stats", "top", "port", "history", "events", "diff", "search"} {
		ro[s] = capability{capReadOnly, name + " " + s, ""}
	}
	return subcommandTool{capability{capRunsCode, name, "runs any container (privileged, with host mounts) and execs into running ones"}, ro, capRunsCode}
}

func pipTool(name string) subcommandTool {
	return subcommandTool{capability{capRunsCode, name, "installs any package, and its build scripts run"},
		map[string]capability{
			"install":  {capRunsCode, name + " install", "installs any package or URL, and its build scripts run"},
			"download": {capNetwork, name + " download", "downloads from any index or URL"}, "wheel": {capRunsCode, name + " wheel", "builds any package, and its build scripts run"},
			"list": {capReadOnly, name + " list", ""}, "show": {capReadOnly, name + " show", ""}, "freeze": {capReadOnly, name + " freeze", ""}, "check": {capReadOnly, name + " check", ""},
		}, capWorkspace}
}

// readOnlyCommands print what they read and change nothing, whatever their arguments.
var readOnlyCommands = map[string]bool{"cat": true, "echo": true, "grep": true, "head": true, "tail": true, "jq": true, "ls": true,
	"wc": true, "pwd": true, "date": true, "uniq": true, "diff": true, "stat": true, "file": true, "which": true,
	"basename": true, "dirname": true, "realpath": true, "cut": true, "tr": true, "true": true, "false": true, "printf": true}

// commandWrappers run the command that follows their own options; the wrapped command is
// what is judged (`timeout 60 go test *` is go test, `timeout *` anything).
var commandWrappers = map[string]bool{"timeout": true, "nice": true, "nohup": true, "time": true, "stdbuf": true, "ionice": true, "watch": true, "command": true}

// wrapperValueFlags take the next word as their value.
var wrapperValueFlags = map[string]bool{"-s": true, "--signal": true, "-k": true, "--kill-after": true, "-n": true, "--adjustment": true, "--interval": true, "-c": true, "--class": true}

// commandSpace judges the command whose fixed words are f and whose remaining arguments
// are free.
func commandSpace(f []string) capability {
	if len(f) == 0 {
		return capability{capRunsCode, "*", "runs any command"}
	}
	cmd := pathBase(f[0])
	args := f[1:]
	if cmd == "*" || cmd == "**" {
		return capability{capRunsCode, "*", "runs any command"}
	}
	if commandWrappers[cmd] {
		i := 0
		for i < len(args) && strings.HasPrefix(args[i], "-") {
			if wrapperValueFlags[args[i]] {
				i++
			}
			i++
		}
		if cmd == "timeout" && i < len(args) { // the duration
			i++
		}
		if i >= len(args) {
			return capability{capRunsCode, cmd, "runs any command"}
		}
		return commandSpace(args[i:])
	}
	if c, ok := anyArgs[cmd]; ok {
		return c
	}
	if t, ok := subcommandTools[cmd]; ok {
		// Global options before the subcommand: `git -C dir log`, `docker --context x ps`.
		i := 0
		for i < len(args) && (args[i] == "-C" || args[i] == "--context" || args[i] == "--no-pager" || args[i] == "-R" || args[i] == "--repo") {
			if args[i] != "--no-pager" {
				i++
			}
			i++
		}
		if i >= len(args) {
			return t.free
		}
		sub := args[i]
		if c, ok := t.sub[sub]; ok {
			if targetSubcommands[cmd+" "+sub] {
				for _, a := range args[i+1:] {
					if !strings.HasPrefix(a, "-") {
						return capability{t.other, cmd + " " + sub + " " + a, ""} // a fixed script, package or file
					}
				}
			}
			return c
		}
		if (cmd == "docker" || cmd == "podman" || cmd == "nerdctl") && sub == "compose" {
			if i+1 < len(args) {
				switch args[i+1] {
				case "ps", "logs", "config", "ls", "images", "top", "version", "events":
					return capability{capReadOnly, cmd + " compose " + args[i+1], ""}
				}
			}
			return capability{capRunsCode, cmd + " compose", "starts any service of the compose file and execs into it"}
		}
		return capability{t.other, cmd + " " + sub, t.free.why}
	}
	if readOnlyCommands[cmd] {
		return capability{capReadOnly, cmd, ""}
	}
	if !riskyCommands[cmd] {
		return capability{capWorkspace, cmd, ""}
	}
	// An interpreter or runner: free unless a concrete script, module or package is fixed.
	for _, a := range args {
		switch {
		case (cmd == "bash" || cmd == "sh" || cmd == "zsh") && a == "-n":
			return capability{capReadOnly, cmd + " -n", ""} // syntax check only: nothing runs
		case strings.HasPrefix(a, "-"):
		case a == "run" || a == "x" || a == "exec" || a == "eval" || a == "repl" || a == "dlx":
		default:
			return capability{capWorkspace, cmd, ""} // a concrete script, module, package or subcommand
		}
	}
	return capability{capRunsCode, cmd, "runs any code"}
}
