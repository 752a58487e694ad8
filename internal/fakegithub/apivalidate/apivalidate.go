// Package apivalidate checks recorded GitHub requests against GitHub's OpenAPI
// description (kin-openapi's openapi3filter), catching wrong field names, enum
// values and limits such as at most 50 annotations per check-run request.
package apivalidate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/escapegate/escapegate/internal/fakegithub"
)

// Validator validates requests against GitHub's API descriptions.
type Validator struct {
	routers []routers.Router
}

// Problem is one request that GitHub would refuse or that names no operation.
type Problem struct {
	Method, Path string
	Operation    string // "" when no operation matches
	Message      string
}

func (p Problem) String() string {
	op := p.Operation
	if op == "" {
		op = "no operation"
	}
	return fmt.Sprintf("%s %s: %s: %s", p.Method, p.Path, op, p.Message)
}

// Load reads OpenAPI 3 descriptions (such as api.github.com.2022-07.json). A request is
// validated by the first one that names its operation: the July 2022 description first
// for what it has, a current one for endpoints newer than it (rulesets, merge queues).
func Load(ctx context.Context, specPaths ...string) (*Validator, error) {
	v := &Validator{}
	for _, specPath := range specPaths {
		loader := openapi3.NewLoader()
		loader.Context = ctx
		doc, err := loader.LoadFromFile(specPath)
		if err != nil {
			return nil, fmt.Errorf("load OpenAPI description %s: %w", specPath, err)
		}
		dropConflicts(doc)
		// Requests are recorded as paths; route them as if sent to api.github.com.
		doc.Servers = openapi3.Servers{{URL: "https://api.github.com"}}
		// GitHub's description has examples that do not match their schemas; they do not matter here.
		r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
		if err != nil {
			return nil, fmt.Errorf("route OpenAPI description %s: %w", specPath, err)
		}
		v.routers = append(v.routers, r)
	}
	if len(v.routers) == 0 {
		return nil, errors.New("no OpenAPI description to load")
	}
	return v, nil
}

// ValidateAll validates every request and returns the problems found.
func (v *Validator) ValidateAll(ctx context.Context, reqs []fakegithub.Request) []Problem {
	var out []Problem
	for _, r := range reqs {
		out = append(out, v.Validate(ctx, r)...)
	}
	return out
}

// Validate checks one recorded request.
func (v *Validator) Validate(ctx context.Context, rec fakegithub.Request) []Problem {
	problem := func(op, msg string) []Problem {
		return []Problem{{Method: rec.Method, Path: rec.Path, Operation: op, Message: msg}}
	}
	u, err := url.Parse(rec.Path)
	if err != nil {
		return problem("", "bad path: "+err.Error())
	}
	var body []byte
	if t := bytes.TrimSpace(rec.Body); len(t) > 0 && string(t) != "null" {
		body = t
	}
	req, err := http.NewRequestWithContext(ctx, rec.Method, "https://api.github.com", bytes.NewReader(body))
	if err != nil {
		return problem("", "bad request: "+err.Error())
	}
	req.URL.Path, req.URL.RawPath, req.URL.RawQuery = routable(u.EscapedPath()), "", u.RawQuery
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var route *routers.Route
	var params map[string]string
	for _, r := range v.routers {
		if route, params, err = r.FindRoute(req); err == nil {
			break
		}
	}
	if err != nil {
		return problem("", "names no operation of GitHub's API")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	err = openapi3filter.ValidateRequest(ctx, in)
	if err == nil {
		return nil
	}
	op := route.Operation.OperationID
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var out []Problem
		for _, e := range me {
			out = append(out, problem(op, firstLine(e.Error()))...)
		}
		return out
	}
	return problem(op, firstLine(err.Error()))
}

// routable makes a recorded path match GitHub's operations as GitHub matches them: an
// escaped '/' stays inside its segment (a label name), and a contents path is one
// parameter. An unescaped '/' in a label name then matches no operation, as on GitHub.
func routable(escaped string) string {
	const slash = "_SLASH_"
	escaped = strings.TrimPrefix(escaped, "/api/v3")
	escaped = strings.NewReplacer("%2F", slash, "%2f", slash).Replace(escaped)
	seg := strings.Split(escaped, "/")
	if len(seg) > 6 && seg[1] == "repos" && seg[4] == "contents" {
		seg = append(seg[:5], strings.Join(seg[5:], slash))
	}
	p, err := url.PathUnescape(strings.Join(seg, "/"))
	if err != nil {
		return escaped
	}
	return p
}

// dropConflicts removes the paths that differ from an earlier one only in the names of
// their parameters (the current description has a few, which the router refuses); such
// a pair names the same requests, so the first one routes them.
func dropConflicts(doc *openapi3.T) {
	seen := map[string]bool{}
	for _, p := range doc.Paths.InMatchingOrder() {
		shape := paramName.ReplaceAllString(p, "{}")
		if seen[shape] {
			doc.Paths.Delete(p)
			continue
		}
		seen[shape] = true
	}
}

var paramName = regexp.MustCompile(`\{[^}]*\}`)

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
