package agents

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// pythonCode blanks comments and triple-quoted strings (docstrings, long text) so
// mentions in prose never count; one-line strings stay, since keyword values live there.
// Offsets and line numbers are kept.
func pythonCode(src []byte) string {
	b := []byte(strings.ReplaceAll(string(src), "\r\n", "\n"))
	out := make([]byte, len(b))
	copy(out, b)
	blank := func(i, j int) {
		for k := i; k < j && k < len(out); k++ {
			if out[k] != '\n' {
				out[k] = ' '
			}
		}
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '#':
			j := i
			for j < len(b) && b[j] != '\n' {
				j++
			}
			blank(i, j)
			i = j
		case (c == '"' || c == '\'') && i+2 < len(b) && b[i+1] == c && b[i+2] == c:
			end := bytes.Index(b[i+3:], []byte{c, c, c})
			j := len(b)
			if end >= 0 {
				j = i + 3 + end + 3
			}
			blank(i, j)
			i = j - 1
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(b) && b[j] != c && b[j] != '\n' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			i = j // keep one-line strings as they are
		}
	}
	return string(out)
}

type pyPattern struct {
	rule string
	sev  checks.Severity
	re   *guardedRE
	what string
}

var pyPatterns = []pyPattern{
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bPython(Ast)?REPLTool\s*\(`), "LangChain Python REPL tool runs model-written Python on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\ballow_dangerous_code\s*=\s*True\b`), "`allow_dangerous_code=True` executes model-generated Python"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bcode_execution_mode\s*=\s*["']unsafe["']`), "CrewAI `code_execution_mode=\"unsafe\"` runs agent code on the host instead of Docker"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bLocalCommandLineCodeExecutor\s*\(`), "AutoGen `LocalCommandLineCodeExecutor` runs generated code on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`["']use_docker["']\s*:\s*False\b|\buse_docker\s*=\s*False\b`), "AutoGen `use_docker: False` executes generated code on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\badditional_authorized_imports\s*=\s*\[[^\]]*["'](\*|os|subprocess|sys|shutil)["']`), "smolagents code agent may import anything (or os/subprocess) in model-written code"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bload_tools\s*\(\s*\[[^\]]*["'](terminal|python_repl|shell)["']`), "LangChain `load_tools` with the `terminal` or `python_repl` tool runs model-chosen commands or code on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\ballow_dangerous_tools\s*=\s*True\b`), "`allow_dangerous_tools=True` opts into LangChain tools that run commands or code on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bPythonREPL\s*\(`), "LangChain `PythonREPL` runs model-written Python on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\b(BashProcess|LLMBashChain)\b\s*[.(]`), "LangChain bash process/chain runs model-written shell commands on the host"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bLocalShellTool\s*\(`), "OpenAI Agents SDK `LocalShellTool` runs the commands the model chooses on this machine"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bCodeInterpreterTool\s*\([^)]*\bunsafe_mode\s*=\s*True\b`), "CrewAI `CodeInterpreterTool(unsafe_mode=True)` runs generated code on the host instead of Docker"},
	{ruleFW1, checks.SeverityHigh, mustGuarded(`\bShellToolMiddleware\s*\((?:[^()]|\([^()]*\))*\)`), "LangChain `ShellToolMiddleware` gives the model a persistent shell session"},
	{ruleFW2, checks.SeverityMedium, mustGuarded(`\ballow_dangerous_requests\s*=\s*True\b`), "requests toolkit with `allow_dangerous_requests=True` lets the model call any URL, internal ones included"},
}

var (
	fileToolkit   = mustGuarded(`\bFileManagementToolkit\s*\(`)
	rootDirArg    = regexp.MustCompile(`\broot_dir\s*=\s*(?:["']([^"']*)["']|([A-Za-z_][\w.]*))`)
	toolDecorator = mustGuarded(`(?m)^([ \t]*)@(function_tool|tool)\b[^\n]*\n(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async\s+)?def\s+(\w+)\s*\(([^)]*)\)`)
	shellCall     = mustGuarded(`\bshell\s*=\s*True\b|\bos\.(system|popen)\s*\(|\bsubprocess\.getoutput\s*\(|\bsubprocess\.getstatusoutput\s*\(|\bcommands\.getoutput\s*\(|\bcreate_subprocess_shell\s*\(|(^|[^.\w])(exec|eval)\s*\(|\[\s*["'](ba|z)?sh["']\s*,\s*["']-c["']|\bpty\.spawn\s*\(`)
	// argvCall runs a program named by its first argument: subprocess.run(cmd.split()), Popen(shlex.split(cmd)).
	argvCall = mustGuarded(`\b(subprocess\.(run|Popen|call|check_output|check_call)|create_subprocess_exec|os\.exec\w*|os\.spawn\w*)\s*\(\s*(\*?\s*shlex\.split\s*\(\s*)?([A-Za-z_]\w*)(\.split\(\s*\))?\s*[,)]`)
)

// pythonFrameworks flags agent-framework code that runs model-chosen code on the host.
func pythonFrameworks(r *report, src []byte) {
	code := pythonCode(src)
	li := newLineIndex([]byte(code))
	count := map[string]int{}
	add := func(rule string, sev checks.Severity, off int, snippet, what string) {
		snippet = strings.Join(strings.Fields(snippet), " ")
		count[rule+snippet]++
		r.add(hit{rule: rule, severity: sev, line: li.line(off), setting: fmt.Sprintf("%s #%d", snippet, count[rule+snippet]),
			message: what + "."})
	}
	for _, off := range shellToolUses(code) {
		add(ruleFW1, checks.SeverityHigh, off, "ShellTool(", "LangChain `ShellTool` runs any shell command the model chooses on the host")
	}
	for _, p := range pyPatterns {
		for _, m := range p.re.FindAllStringIndex(code, -1) {
			add(p.rule, p.sev, m[0], code[m[0]:m[1]], p.what)
		}
	}
	for _, m := range fileToolkit.FindAllStringIndex(code, -1) {
		args := callArgs(code, m[1]-1)
		rd := rootDirArg.FindStringSubmatch(args)
		switch {
		case rd == nil:
			add(ruleFW2, checks.SeverityHigh, m[0], "FileManagementToolkit no root_dir", "LangChain `FileManagementToolkit` without `root_dir` works on the whole filesystem from the current directory")
		case rd[2] == "" && (rd[1] == "/" || broadDirectory(rd[1]) || strings.EqualFold(strings.TrimRight(rd[1], "\\/"), "C:")):
			add(ruleFW2, checks.SeverityHigh, m[0], "FileManagementToolkit root_dir "+rd[1], fmt.Sprintf("LangChain `FileManagementToolkit` is rooted at `%s`: its read, write and delete tools reach the whole disk", rd[1]))
		}
	}
	for _, m := range toolDecorator.FindAllStringSubmatchIndex(code, -1) {
		indent := code[m[2]:m[3]]
		name := code[m[6]:m[7]]
		params := paramNames(code[m[8]:m[9]])
		body, bodyStart := functionBody(code, m[1], indent)
		for _, sm := range shellCall.FindAllStringIndex(body, -1) {
			line := lineAround(body, sm[0])
			if !mentionsAny(line, params) {
				continue
			}
			add(ruleFW1, checks.SeverityHigh, bodyStart+sm[0], "tool "+name+" "+strings.TrimSpace(line),
				fmt.Sprintf("Agent tool `%s` passes its model-chosen argument to a shell or interpreter (`%s`)", name, strings.TrimSpace(body[sm[0]:sm[1]])))
		}
		for _, sm := range argvCall.FindAllStringSubmatchIndex(body, -1) {
			arg := body[sm[8]:sm[9]]
			if !mentionsAny(arg, params) {
				continue
			}
			line := lineAround(body, sm[0])
			add(ruleFW1, checks.SeverityHigh, bodyStart+sm[0], "tool "+name+" "+strings.TrimSpace(line),
				fmt.Sprintf("Agent tool `%s` runs whatever program its model-chosen argument `%s` names", name, arg))
		}
	}
}

// callArgs returns the text between the parenthesis at open and its match.
func callArgs(code string, open int) string {
	depth := 0
	for i := open; i < len(code); i++ {
		switch code[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return code[open+1 : i]
			}
		}
	}
	return code[open+1:]
}

func paramNames(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if i := strings.IndexAny(p, ":="); i >= 0 {
			p = strings.TrimSpace(p[:i])
		}
		p = strings.TrimLeft(p, "*")
		if p != "" && p != "self" && p != "cls" {
			out = append(out, p)
		}
	}
	return out
}

// functionBody is the text after a def's header up to the first line indented no deeper than the def.
func functionBody(code string, from int, indent string) (string, int) {
	start := strings.IndexByte(code[from:], '\n')
	if start < 0 {
		return "", from
	}
	start += from + 1
	end := start
	for end < len(code) {
		nl := strings.IndexByte(code[end:], '\n')
		line := code[end:]
		if nl >= 0 {
			line = code[end : end+nl]
		}
		if strings.TrimSpace(line) != "" && len(line)-len(strings.TrimLeft(line, " \t")) <= len(indent) {
			break
		}
		if nl < 0 {
			end = len(code)
			break
		}
		end += nl + 1
	}
	return code[start:end], start
}

func lineAround(s string, off int) string {
	a := strings.LastIndexByte(s[:off], '\n') + 1
	b := strings.IndexByte(s[off:], '\n')
	if b < 0 {
		return s[a:]
	}
	return s[a : off+b]
}

func mentionsAny(s string, names []string) bool {
	for _, n := range names {
		for i := strings.Index(s, n); i >= 0; {
			before := i == 0 || !isIdent(s[i-1])
			after := i+len(n) == len(s) || !isIdent(s[i+len(n)])
			if before && after {
				return true
			}
			j := strings.Index(s[i+1:], n)
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var (
	shellToolCall   = mustGuarded(`\bShellTool\s*\(`)
	shellToolImport = mustGuarded(`\bfrom\s+langchain[\w.]*\s+import\s+(\([^)]*\bShellTool\b|[^\n]*\bShellTool\b)|\blangchain[\w.]*\.ShellTool\b`)
	localShellTool  = mustGuarded(`(?m)^[ \t]*class\s+ShellTool\b`)
	assignedTo      = regexp.MustCompile(`(?:^|\n)[ \t]*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*=\s*$`)
	runMethod       = regexp.MustCompile(`^\.\s*_?a?(run|invoke)\s*\(`)
	keywordArg      = regexp.MustCompile(`\b[A-Za-z_]\w*\s*=`)
	pyString        = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'`)
	pyIdent         = regexp.MustCompile(`[A-Za-z_]\w*`)
)

// shellToolUses are the offsets of LangChain ShellTool instances that reach an agent: the
// tool must be LangChain's (imported from it, not a local class of that name), and the
// instance must be handed on (a tools list, an agent constructor, a return) or run on a
// value that is not a literal. Reading its name or description gives nobody a shell.
func shellToolUses(code string) []int {
	if !shellToolImport.MatchString(code) || localShellTool.MatchString(code) {
		return nil
	}
	var out []int
	for _, m := range shellToolCall.FindAllStringIndex(code, -1) {
		end := m[1] - 1 + len(callArgs(code, m[1]-1)) + 2
		if end > len(code) {
			end = len(code)
		}
		if v := assignedTo.FindStringSubmatch(code[:m[0]]); v != nil {
			if instanceHandedOn(code[end:], v[1]) {
				out = append(out, m[0])
			}
			continue
		}
		if usedHere(code[end:]) {
			out = append(out, m[0])
		}
	}
	return out
}

// usedHere judges what follows an instance expression: an attribute read is not a use,
// running it on a non-literal value is, anything else (a list item, an argument) is.
func usedHere(after string) bool {
	a := strings.TrimLeft(after, " \t")
	if !strings.HasPrefix(a, ".") {
		return true
	}
	if loc := runMethod.FindStringIndex(a); loc != nil {
		args := keywordArg.ReplaceAllString(callArgs(a, loc[1]-1), "")
		return pyIdent.MatchString(pyString.ReplaceAllString(args, ""))
	}
	return false
}

// instanceHandedOn reports a later use of the variable holding the instance.
func instanceHandedOn(rest, name string) bool {
	re := regexp.MustCompile(`(^|[^\w.])` + regexp.QuoteMeta(name) + `\b`)
	for _, loc := range re.FindAllStringIndex(rest, -1) {
		after := rest[loc[1]:]
		if t := strings.TrimLeft(after, " \t"); strings.HasPrefix(t, "=") && !strings.HasPrefix(t, "==") {
			continue // reassigned
		}
		if usedHere(after) {
			return true
		}
	}
	return false
}
