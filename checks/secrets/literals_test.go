package secrets

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPathFilterIsNecessary: the literal filter never skips a global allowlist that
// allows the path.
func TestPathFilterIsNecessary(t *testing.T) {
	e := mustEngine(t, Options{ExtraRulesTOML: []byte(`
[allowlist]
paths = ['''(?i)fixtures?/''', '''\.snap$''']
[[rules]]
id = "org-token"
regex = '''orgtok_[a-z0-9]{20}'''
keywords = ["orgtok_"]
`)})
	paths := []string{
		"node_modules/x/index.js", "a/b/logo.PNG", "go.sum", "sub/go.mod", "vendor/modules.txt",
		"vendor/github.com/x/y.go", "gradlew", "gradlew.bat", "yarn.lock", "lib/python3.11/site-packages/x.py",
		"Lib64/Python2.7/x.py", "venv/lib/x.py", "foo-1.2.dist-info/METADATA", "x.gem", ".git", "a/.git",
		"Database.refactorlog", "gitleaks.toml", "a/verification-metadata.xml", "static/jquery-3.1.min.js",
		"static/swagger-ui.js.map", "FONT.WOFF2", "doc.PDF", "poetry.lock", "vendor/bundle/x.rb",
		"test/Fixtures/key.pem", "ui/__snapshots__/a.snap", "main.go", "src/app.py", "README.md", "",
		"go.work.sum", ".mvn/wrapper/MavenWrapperDownloader.java", "bower_components/x", "x.min.js",
	}
	// Random paths built from the filters' own literals and path-like pieces.
	var pieces []string
	for _, fs := range e.globalPathF {
		for _, f := range fs {
			pieces = append(pieces, f.lits...)
		}
	}
	pieces = append(pieces, "/", ".", "-", "a", "B", "1", "_", "min", "js", "lib", "python", "3", ".11")
	rng := rand.New(rand.NewPCG(3, 4))
	noteSample(t)
	for range sweepSize(20000, 500) {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			p := pieces[rng.IntN(len(pieces))]
			if rng.IntN(3) == 0 {
				p = strings.ToUpper(p)
			}
			b.WriteString(p)
		}
		paths = append(paths, b.String())
	}
	allowed := 0
	for set := range e.globalSets {
		for _, p := range paths {
			lower, ok := lowerPath(p)
			if !ok {
				continue
			}
			want := pathOrCommitAllowed(p, e.globalSets[set])
			if want {
				allowed++
			}
			if got := pathOrCommitAllowedFiltered(p, lower, e.globalSets[set], e.globalPathF[set]); got != want {
				t.Errorf("set %d, path %q: filtered %v, regexes %v", set, p, got, want)
			}
		}
	}
	t.Logf("%d allowed of %d paths in %d sets", allowed, len(paths), len(e.globalSets))
	if allowed < 100 {
		t.Fatalf("only %d allowed paths: the test does not exercise the filter", allowed)
	}
}

func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{`(?i)\.(?:bmp|gif|png)$`, []string{".bmp", ".gif", ".png"}},
		{`(?i)\.(?:docx?|v2|.dll)$`, []string{"doc", "v2", "dll"}},
		{`(?:^|/)node_modules(?:/.*)?$`, []string{"node_modules", "/node_modules"}},
		{`go\.(?:mod|sum|work(?:\.sum)?)$`, []string{"go."}},
		{`(?i)[a-z]+`, nil},
		{`a*|b`, nil},
	} {
		got, ok := requiredLiterals(tc.pattern)
		if ok != (tc.want != nil) || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %q %v, want %q", tc.pattern, got, ok, tc.want)
		}
	}
}
