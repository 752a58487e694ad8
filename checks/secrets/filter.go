package secrets

import (
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// lockFiles are dependency lock files that gitleaks' global allowlist does not list;
// their hashes and integrity values are never secrets. A path is one when its last
// element is one of these names, case ignored as (?i) ignores it (strings.EqualFold).
var lockFiles = []string{"Cargo.lock", "composer.lock", "Gemfile.lock", "packages.lock.json", "flake.lock",
	"mix.lock", "pubspec.lock", "Package.resolved", "bun.lock", "bun.lockb", "uv.lock", "pdm.lock", "Podfile.lock",
	"conda-lock.yml", "conda-lock.yaml", ".terraform.lock.hcl", "go.work.sum"}

func ownPathAllowed(path string) bool {
	name := path[strings.LastIndexByte(path, '/')+1:]
	for _, l := range lockFiles {
		if strings.EqualFold(name, l) {
			return true
		}
	}
	return false
}

var (
	uuidRe      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	integrityRe = regexp.MustCompile(`^(?:sha(?:1|256|384|512)-[A-Za-z0-9+/=]+|h1:[A-Za-z0-9+/=]+)$`)
	hexDigestRe = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$`)
	// credentialWordRe names a credential outright; "key" or "id" alone does not.
	credentialWordRe = regexp.MustCompile(`(?i)secret|token|passw|pwd|credential|api[_.-]?key|private|auth[_.-]?(?:key|token)|authorization|bearer`)
	repeatedRe       = regexp.MustCompile(`(?i)(?:x{5,}|\*{4,}|0{8,}|\.{3})`)
)

// placeholderWords mark values that stand in for a secret in docs and templates.
var placeholderWords = []string{"placeholder", "your_", "your-", "yourapi", "changeme", "change_me", "dummy", "redacted", "replace_me", "replaceme", "insert_", "<", "${", "{{"}

// notASecret drops values that escapegate never reports, whatever the rule: documented
// examples (AWS's AKIAIOSFODNN7EXAMPLE), and for heuristic rules (which match any
// value after a keyword) placeholders, template and environment references, UUIDs and
// hashes of lock files and integrity fields. before is the text of the secret's line
// before the secret (the key it is assigned to).
func notASecret(r *rule, secret, match, before string) bool {
	if strings.Contains(secret, "EXAMPLE") || strings.Contains(strings.ToLower(secret), "example") {
		return true
	}
	if r.specificity >= 2 {
		return false
	}
	if assignmentRules[r.id] && (referenceNotValue(r, secret, match) || insideARN(before)) {
		return true
	}
	if ascendingRuns(secret) || plainBase64(secret, before) || notCredentialKey(before) {
		return true
	}
	lower := strings.ToLower(secret)
	for _, w := range placeholderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	if repeatedRe.MatchString(secret) || integrityRe.MatchString(secret) {
		return true
	}
	// For the keyword heuristic, a UUID or a hex digest is an id or a checksum
	// (primary_key, cache_key, commit sha) unless the match names a credential
	// ("client_secret": "<hex>", api_token = <uuid>).
	return r.specificity == 0 && (uuidRe.MatchString(secret) || hexDigestRe.MatchString(secret)) && !credentialWordRe.MatchString(match)
}

// shannonEntropy is gitleaks' measure: bits per character over the value's runes,
// divided by its length in bytes (as gitleaks computes it, for the same thresholds).
func shannonEntropy(s string) float64 {
	if s == "" {
		return 0
	}
	var ascii [128]int
	var other map[rune]int
	for _, c := range s {
		if c < utf8.RuneSelf {
			ascii[c]++
			continue
		}
		if other == nil {
			other = map[rune]int{}
		}
		other[c]++
	}
	inv := 1.0 / float64(len(s))
	var h float64
	add := func(n int) {
		if n > 0 {
			f := float64(n) * inv
			h -= f * math.Log2(f)
		}
	}
	for _, n := range ascii {
		add(n)
	}
	for _, n := range other {
		add(n)
	}
	return h
}
