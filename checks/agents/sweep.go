package agents

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// secretKey is a setting name whose value is a credential; notSecretKey names that merely
// point at one (an env var name, a file, a helper script) or count tokens.
var (
	secretKey    = regexp.MustCompile(`(?i)token|secret|passw(or)?d|passwd|pwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|authorization|auth[_-]?key|bearer`)
	notSecretKey = regexp.MustCompile(`(?i)(_id|clientid|env_?var|_env|_var|_file|_path|_url|_uri|url|uri|endpoint|host|name|helper|command|budget|count|limit|ttl|expiry|expires|_in)$|^(max|num|min)[_-]?|tokens$`)
	placeholder  = regexp.MustCompile(`(?i)your|here|xxx|example|placeholder|changeme|change_me|replace|dummy|redacted|<|>|\*\*\*|insert|sample`)
	envVarName   = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	urlPassword  = regexp.MustCompile(`://([^/:@\s]+):([^@\s/]+)@`)
	authScheme   = map[string]bool{"bearer": true, "basic": true, "token": true, "bot": true}
	queryKey     = regexp.MustCompile(`(?i)^(key|sig|signature|code)$`)
)

// looksSecret is a random-looking literal: long, letters and digits, high entropy.
func looksSecret(v string) bool {
	if len(v) < 12 || strings.ContainsAny(v, " \t\n") || strings.HasPrefix(v, "op://") || envVarName.MatchString(v) || placeholder.MatchString(v) {
		return false
	}
	letter, digit := false, false
	freq := map[rune]float64{}
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		}
		freq[c]++
	}
	if !letter || !digit {
		return false
	}
	h := 0.0
	n := float64(len([]rune(v)))
	for _, f := range freq {
		p := f / n
		h -= p * math.Log2(p)
	}
	return h >= 3.0
}

// literalSecret finds a literal credential in the value of setting key: a token of a known
// format, a password or key in a URL, or a random-looking value of a secret-named setting.
func literalSecret(key, v string) (string, bool) {
	if m, ok := literalCredential(v); ok {
		return m, true
	}
	if strings.Contains(v, "://") {
		if u, err := url.Parse(strings.TrimSpace(v)); err == nil && u.Host != "" {
			if pw, ok := u.User.Password(); ok && pw != "" && !variableRef.MatchString(pw) && !placeholder.MatchString(pw) && !loopback(u.Hostname()) {
				return pw, true
			}
			for k, vals := range u.Query() {
				if !secretKey.MatchString(k) && !queryKey.MatchString(k) {
					continue
				}
				for _, qv := range vals {
					if len(qv) >= 8 && !variableRef.MatchString(qv) && !placeholder.MatchString(qv) && !envVarName.MatchString(qv) {
						return qv, true
					}
				}
			}
		}
	}
	if key == "" || !secretKey.MatchString(key) || notSecretKey.MatchString(key) {
		return "", false
	}
	val := strings.TrimSpace(v)
	if f := strings.Fields(val); len(f) == 2 && authScheme[strings.ToLower(f[0])] {
		val = f[1]
	}
	if variableRef.MatchString(val) || !looksSecret(val) {
		return "", false
	}
	return val, true
}

// secretSweep reports literal credentials anywhere under n. server names the MCP server
// n configures ("" outside one). Each value is checked once per file.
func secretSweep(r *report, n *node, path, server string) {
	if n == nil {
		return
	}
	if r.swept == nil {
		r.swept = map[*node]bool{}
	}
	var walk func(n *node, path, key string)
	walk = func(n *node, path, key string) {
		if n == nil || r.swept[n] {
			return
		}
		r.swept[n] = true
		switch n.kind {
		case mapNode:
			for _, k := range n.keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(n.field[k], p, k)
			}
		case listNode:
			for i, it := range n.items {
				k := key
				// An argument list: the value after `--api-key` (or in `--token=...`) is named by its flag.
				if i > 0 && n.items[i-1].kind == scalarNode {
					if f, ok := secretFlag(n.items[i-1].text()); ok {
						k = f
					}
				}
				if it.kind == scalarNode && it.isStr {
					if name, val, ok := strings.Cut(it.text(), "="); ok {
						if f, isFlag := secretFlag(name); isFlag {
							if m, found := literalSecret(f, val); found {
								r.swept[it] = true
								setting := fmt.Sprintf("credential %s[%d]", path, i)
								if server != "" {
									setting = "mcp " + server + " " + setting
								}
								r.add(hit{rule: ruleMCP3, severity: checks.SeverityCritical, line: it.line, setting: setting,
									message: fmt.Sprintf("Agent setting `%s[%d]` passes a literal credential to `%s` (%s): it is in the repository for every reader and stays in history.", path, i, name, checks.Redact(m))})
								continue
							}
						}
					}
				}
				walk(it, fmt.Sprintf("%s[%d]", path, i), k)
			}
		default:
			if !n.isStr {
				return
			}
			m, ok := literalSecret(key, n.str)
			if !ok {
				return
			}
			if server != "" {
				r.add(hit{rule: ruleMCP3, severity: checks.SeverityCritical, line: n.line, setting: "mcp " + server + " credential " + path,
					message: fmt.Sprintf("MCP server `%s` has a literal credential in %s (%s): it is in the repository for every reader and stays in history.", server, path, checks.Redact(m))})
				return
			}
			r.add(hit{rule: ruleMCP3, severity: checks.SeverityCritical, line: n.line, setting: "credential " + path,
				message: fmt.Sprintf("Agent setting `%s` holds a literal credential (%s): it is in the repository for every reader and stays in history.", path, checks.Redact(m))})
		}
	}
	walk(n, path, "")
}

// redactCredentials replaces every literal credential in s by its redacted form.
func redactCredentials(s string) string {
	s = credential.ReplaceAllStringFunc(s, func(m string) string {
		if variableRef.MatchString(m) {
			return m
		}
		return checks.Redact(m)
	})
	return urlPassword.ReplaceAllStringFunc(s, func(m string) string {
		sm := urlPassword.FindStringSubmatch(m)
		if variableRef.MatchString(sm[2]) {
			return m
		}
		return "://" + sm[1] + ":" + checks.Redact(sm[2]) + "@"
	})
}

// tooDeep reports the line where bracket nesting (outside double-quoted strings) exceeds limit.
func tooDeep(b []byte, limit int) (int, bool) {
	depth, line, inStr := 0, 1, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\n':
			line++
			inStr = false
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
			if depth > limit {
				return line, true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return 0, false
}

// jsonBlank reports a JSONC file with nothing but whitespace and comments.
func jsonBlank(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := strings.Index(string(b[i+2:]), "*/")
			if end < 0 {
				return false
			}
			i += 2 + end + 1
		default:
			return false
		}
	}
	return true
}

// secretFlag is a command-line flag whose value is a credential (`--api-key`, `--token`,
// `--key`); it returns a setting name the credential rules read as secret-named.
func secretFlag(a string) (string, bool) {
	if !strings.HasPrefix(a, "--") || len(a) < 4 {
		return "", false
	}
	name := strings.TrimPrefix(a, "--")
	if name == "key" || name == "auth" {
		return "api_key", true
	}
	if secretKey.MatchString(name) && !notSecretKey.MatchString(name) {
		return name, true
	}
	return "", false
}
