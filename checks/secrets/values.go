package secrets

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// Value-shaped checks for escapegate's keyword rules (a password or secret name
// assigned a value): what follows the name is often not a value at all but a
// reference to one (a file, a template, a variable, an environment lookup). Those
// checks (referenceNotValue, insideARN) apply only to assignmentRules. Three checks
// apply to every keyword heuristic, gitleaks' generic-api-key and kubernetes-secret-yaml
// included (notASecret, specificity below 2): ascendingRuns, plainBase64 and
// notCredentialKey; gitleaks' samples stay found (TestGitleaksSamples).

// assignmentRules are escapegate's rules that take any value after a credential name.
var assignmentRules = map[string]bool{
	"escapegate-password-assignment": true,
	"escapegate-secret-assignment":   true,
}

var (
	// pathValueRe: an absolute, relative or home path (/run/secrets/db, ./secrets/pw.txt,
	// ~/.config/app/token, C:\secrets\pw.txt).
	pathValueRe = regexp.MustCompile(`^(?:(?:\.{1,2}|~)?/|[A-Za-z]:\\)[\w.@%+~-]+(?:[/\\][\w.@%+~-]*)*$`)
	// refValueRe: templates, variables, environment and secret-store lookups.
	refValueRe = regexp.MustCompile(`(?i)^(?:\$|%[\w]+%|\{\{|\{%|<%|#\{|@\{|\.[a-z_]|!(?:secret|ref|sub|getatt|vault|env)\b|process\.env|import\.meta\.env|os\.(?:environ|getenv)|getenv\(|system\.getenv|env(?:\(|\[|\.|:)|config\[|settings\.|vault:|ref\+|arn:|urn:|sm://|secretsmanager:|projects/[^/]+/secrets/|(?:var|local|data|module)\.)`)
	// refKeyRe: a credential name whose value names where the credential is (a file,
	// a path, a secret's name, its URL or type), not the credential.
	refKeyRe     = regexp.MustCompile(`(?i)(?:file|path|dir|name|url|uri|endpoint|ref|arn|type|header|field|env|var|length|len|ttl|version|mode|policy|location|prefix|suffix|format|count|size|limit|expiry|expires|lifetime|regex|pattern|cmd|command|script|key_?id|provider|store|backend|mount|source|selector)["']?$`)
	lowerWordsRe = regexp.MustCompile(`^[^a-z0-9]*[a-z]+(?:[^A-Za-z0-9]+[a-z]+)*[^a-z0-9]*$`)
	// notCredentialKeyRe: per-session anti-forgery values (csrf-token) and the
	// pagination or change tokens of APIs (NextToken, nextPageToken, PolicyUpdateToken),
	// which grant nothing.
	notCredentialKeyRe = regexp.MustCompile(`(?i)csrf|xsrf|captcha|(?:next|page|continuation|pagination|cursor|output|input|marker|sync|resume|idempotency|update|change)[_.-]?token`)
	// codeExprRe: an unquoted arithmetic expression of names and numbers
	// (2*maxConcurrency + n), not a literal.
	codeExprRe   = regexp.MustCompile(`^(?:\d+|[A-Za-z_]+)(?:[*+/%|&^-](?:\d+|[A-Za-z_]+))+$`)
	keyOfMatchRe = regexp.MustCompile(`([\w.$-]+)["']?[ \t]*(?:=|:|:=|=>|\?=)`)
)

// referenceNotValue reports whether an assignment rule's value is a reference: a
// path, a template or variable reference, an environment lookup, a URL (the URL
// rules judge those), or any value of a *_FILE / password_file style name.
func referenceNotValue(r *rule, secret, match string) bool {
	if r.id == "escapegate-secret-assignment" && lowerWordsRe.MatchString(secret) {
		return true // foo/restricted-users, team:read-only: names, not generated secrets
	}
	if pathValueRe.MatchString(secret) || refValueRe.MatchString(secret) || strings.Contains(secret, "://") || strings.Contains(match, "arn:aws") {
		return true
	}
	if codeExprRe.MatchString(secret) && !strings.ContainsAny(match[len(match)-1:], "\"'`") {
		return true
	}
	if m := keyOfMatchRe.FindStringSubmatch(match); m != nil && (refKeyRe.MatchString(m[1]) || notCredentialKeyRe.MatchString(m[1])) {
		return true
	}
	return false
}

// ascendingRuns reports a value made only of runs of consecutive characters
// (123456abcdefg, abcd1234): a typed placeholder, never a generated secret.
func ascendingRuns(s string) bool {
	if len(s) < 6 {
		return false
	}
	for i := 0; i < len(s); {
		j := i + 1
		for j < len(s) && s[j] == s[j-1]+1 {
			j++
		}
		if j-i < 3 {
			return false
		}
		i = j
	}
	return true
}

var (
	b64ValueRe = regexp.MustCompile(`^[A-Za-z0-9+/]{4,}={0,2}$`)
	// plainDecodedRe: a base64 value that decodes to an address or a single word (a
	// user or account name), not key material.
	plainDecodedRe = regexp.MustCompile(`^(?:[a-z][a-z0-9+.-]*://[\w.:@/\[\]-]+|[\w.-]+:\d{1,5}|\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|[A-Za-z][A-Za-z0-9._@-]{0,31})$`)
	keyValueRe     = regexp.MustCompile(`^([\w.-]+):[ \t]*["']?([A-Za-z0-9+/]+={0,2})["']?$`)
	lastKeyRe      = regexp.MustCompile(`([\w.-]+)["']?[ \t]*[:=][ \t"']*$`)
)

// plainBase64 reports a base64 value (a Kubernetes Secret's data) that decodes to an
// address or a plain name under a key that does not name a credential (apiAddress,
// username, accountname): the heuristics' entropy sees the encoding, not a secret.
func plainBase64(secret, before string) bool {
	// kubernetes-secret-yaml's secret is the whole "key: value" pair.
	if kv := keyValueRe.FindStringSubmatch(secret); kv != nil {
		before, secret = kv[1]+":", kv[2]
	}
	if len(secret)%4 != 0 || !b64ValueRe.MatchString(secret) {
		return false
	}
	m := lastKeyRe.FindStringSubmatch(before)
	if m == nil || credentialWordRe.MatchString(m[1]) || strings.Contains(strings.ToLower(m[1]), "key") {
		return false
	}
	d, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return false
	}
	return plainDecodedRe.Match(d)
}

// notCredentialKey reports a value assigned to an anti-forgery or pagination token
// name (the text before the value on its line ends with that name).
func notCredentialKey(before string) bool {
	m := lastKeyRe.FindStringSubmatch(before)
	return m != nil && notCredentialKeyRe.MatchString(m[1])
}

var arnTailRe = regexp.MustCompile(`arn:aws[\w-]*:[^\s"'\x60]*$`)

// insideARN reports a value that is the rest of an ARN (arn:aws:secretsmanager:
// region:account:secret:name): a name matched inside it is part of the ARN.
func insideARN(before string) bool { return arnTailRe.MatchString(before) }
