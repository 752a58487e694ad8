package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/escapegate/escapegate/checks"
	"gopkg.in/yaml.v3"
)

// FileError is one problem of a policy file, with the place it was found.
// Line 0 means the file as a whole.
type FileError struct {
	File   string
	Line   int
	Column int
	Reason string
}

func (e *FileError) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("`%s`: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("`%s` line %d: %s", e.File, e.Line, e.Reason)
}

// Errors is every problem of a policy file, in file order.
type Errors []*FileError

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Pos is the place of a key in a policy file.
type Pos struct{ Line, Column int }

// Parsed is one valid policy file: the keys it set and where, and Policy, which
// is Default() with those keys applied.
type Parsed struct {
	File   string
	Org    bool
	Policy Policy
	// Set maps each key path the file set (e.g. "override.approvers.teams") to its place.
	Set map[string]Pos
}

// Apply returns base with the keys this file set replaced by the file's values.
func (p *Parsed) Apply(base Policy) Policy {
	if p == nil {
		return base
	}
	out := clonePolicy(base)
	for _, f := range schema {
		if _, ok := p.Set[f.path]; ok {
			f.copy(&out, &p.Policy)
		}
	}
	return out
}

// Parse reads a policy file strictly: unknown keys, values of the wrong type and
// invalid values are errors (an Errors value, each with its line). Keys the file
// does not set keep their defaults. org says whether it is the org file, the only
// one that may set allow_repo_overrides.
func Parse(file string, data []byte, org bool) (Policy, error) {
	p, err := ParseFile(file, data, org)
	if err != nil {
		return Default(), err
	}
	return p.Policy, nil
}

// ParseFile is Parse that also keeps which keys the file set, as Merge needs.
func ParseFile(file string, data []byte, org bool) (*Parsed, error) {
	ps := &parser{file: file, org: org, out: &Parsed{File: file, Org: org, Policy: Default(), Set: map[string]Pos{}}}
	ps.parse(data)
	if len(ps.errs) > 0 {
		sort.SliceStable(ps.errs, func(i, j int) bool { return ps.errs[i].Line < ps.errs[j].Line })
		return nil, ps.errs
	}
	return ps.out, nil
}

// Validate checks a policy file offline, as `escapegate validate FILE` does. The
// file is the org file when its name is `escapegate.yml` outside a `.github`
// folder, else a repository file. It returns nil or Errors.
func Validate(file string, data []byte) error {
	_, err := ParseFile(file, data, IsOrgFileName(file))
	return err
}

// IsOrgFileName reports whether a local file name names an org policy file:
// `escapegate.yml` that is not inside a `.github` folder.
func IsOrgFileName(file string) bool {
	f := path.Clean(strings.ReplaceAll(file, "\\", "/"))
	return path.Base(f) == OrgFile && path.Base(path.Dir(f)) != ".github"
}

type parser struct {
	file string
	org  bool
	out  *Parsed
	errs Errors
}

func (ps *parser) errorf(n *yaml.Node, format string, args ...any) {
	e := &FileError{File: ps.file, Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	ps.errs = append(ps.errs, e)
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

func (ps *parser) parse(data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // an empty file sets nothing
		}
		ps.syntaxError(err)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.errorf(&extra, "a policy file holds one YAML document; remove the `---` and what follows")
	} else if !errors.Is(err, io.EOF) {
		ps.syntaxError(err)
		return
	}
	if len(doc.Content) == 0 {
		return
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return // a file of comments only
	}
	ps.mapping("", root)
	if len(ps.errs) == 0 {
		ps.crossCheck()
	}
}

// syntaxError turns yaml.v3's "yaml: line 3: reason" into a FileError.
func (ps *parser) syntaxError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	ps.errs = append(ps.errs, &FileError{File: ps.file, Line: line, Reason: "invalid YAML: " + msg})
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping walks a section: each key must be a field or a known section.
func (ps *parser) mapping(prefix string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // `override:` with nothing under it sets nothing
	}
	if n.Kind != yaml.MappingNode {
		if prefix == "" {
			ps.errorf(n, "a policy file must be a mapping of keys (see docs/policy.md)")
		} else {
			ps.errorf(n, "`%s` must be a mapping of keys", prefix)
		}
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := k.Value
		full := key
		if prefix != "" {
			full = prefix + "." + key
		}
		if k.Kind != yaml.ScalarNode {
			ps.errorf(k, "keys must be plain names")
			continue
		}
		if seen[key] {
			ps.errorf(k, "duplicate key `%s`", full)
			continue
		}
		seen[key] = true
		if sections[full] {
			ps.mapping(full, v)
			continue
		}
		f, ok := fieldByPath[full]
		if !ok {
			ps.errorf(k, "unknown key `%s`%s", full, suggest(full))
			continue
		}
		if f.orgOnly && !ps.org {
			ps.errorf(k, "`%s` is only valid in the org policy (`%s` in the org's `%s` repository)", full, OrgFile, OrgRepo)
			continue
		}
		if reason := f.decode(&ps.out.Policy, v); reason != "" {
			ps.errorf(v, "`%s`: %s", full, reason)
			continue
		}
		ps.out.Set[full] = Pos{Line: k.Line, Column: k.Column}
	}
}

// crossCheck validates what involves several keys, on the file's values over the defaults.
func (ps *parser) crossCheck() {
	p := ps.out.Policy
	at := func(key string) *yaml.Node {
		pos := ps.out.Set[key]
		return &yaml.Node{Line: pos.Line, Column: pos.Column}
	}
	for name := range p.Override.Reasons {
		if strings.EqualFold(name, p.Override.Label) {
			ps.errorf(at("override.reasons"), "reason label `%s` is the override label itself", name)
		}
	}
	if p.Production.Trigger == TriggerDeployment && len(p.Production.Environments) == 0 {
		key := "production.environments"
		if _, ok := ps.out.Set[key]; !ok {
			key = "production.trigger"
		}
		ps.errorf(at(key), "`production.trigger: deployment` needs at least one environment in `production.environments`")
	}
}

// suggest names the known key nearest to a misspelt one.
func suggest(key string) string {
	best, bestD := "", 4
	for _, f := range schema {
		if d := levenshtein.ComputeDistance(key, f.path); d < bestD {
			best, bestD = f.path, d
		}
	}
	for s := range sections {
		if d := levenshtein.ComputeDistance(key, s); d < bestD {
			best, bestD = s, d
		}
	}
	if best == "" {
		return " (see docs/policy.md for the keys)"
	}
	return fmt.Sprintf(" (did you mean `%s`?)", best)
}

// Value checks shared by the schema.

var (
	teamSlug     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9_])?$`)
	reasonName   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	repoName     = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	severityList = "critical, high, medium or low"
)

func checkSeverity(s *checks.Severity) string {
	v, err := checks.ParseSeverity(string(*s))
	if err != nil {
		return fmt.Sprintf("%q is not a severity (want %s)", string(*s), severityList)
	}
	*s = v
	return ""
}

// checkLabel follows GitHub's limits on label names: not empty, at most 50 characters.
func checkLabel(l string) string {
	switch {
	case strings.TrimSpace(l) == "":
		return "a label name cannot be empty"
	case strings.TrimSpace(l) != l:
		return fmt.Sprintf("label %q has spaces at its ends", l)
	case len([]rune(l)) > 50:
		return fmt.Sprintf("label %q is longer than GitHub's 50 characters", l)
	}
	return ""
}

func checkGlob(g string) string {
	if strings.TrimSpace(g) == "" {
		return "a branch pattern cannot be empty"
	}
	if _, err := compileGlob(g); err != nil {
		return fmt.Sprintf("branch pattern %q is not a valid glob: %v", g, err)
	}
	return ""
}

func checkDays(d, max int) string {
	if d <= 0 || d > max {
		return fmt.Sprintf("%d is not a number of days from 1 to %d", d, max)
	}
	return ""
}

func oneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return ""
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	return fmt.Sprintf("%q is not one of %s", v, strings.Join(quoted, ", "))
}

func eachItem(items []string, check func(string) string) string {
	for _, it := range items {
		if r := check(it); r != "" {
			return r
		}
	}
	return ""
}

// checkDuplicates refuses case-insensitive repeats, which GitHub treats as one label.
func checkDuplicates(items []string) string {
	seen := map[string]bool{}
	for _, it := range items {
		k := strings.ToLower(it)
		if seen[k] {
			return fmt.Sprintf("%q is listed twice", it)
		}
		seen[k] = true
	}
	return ""
}
