package secrets

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPathSetsAsGitleaks: the engine's path checks (allowlists' path regexes split
// into branches behind their literals) allow exactly the paths gitleaks' PathAllowed
// does.
func TestPathSetsAsGitleaks(t *testing.T) {
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
	// Random paths built from the branches' own literals and path-like pieces.
	var pieces []string
	for _, set := range e.paths {
		set.once.Do(set.build)
		for _, b := range set.branches {
			pieces = append(pieces, b.lits...)
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
	sets := slices.Clone(e.globalSets)
	for i := range e.rules {
		sets = append(sets, e.rules[i].allowlists)
	}
	for si, set := range sets {
		for _, p := range paths {
			for _, a := range set {
				want := a.PathAllowed(p)
				if want {
					allowed++
				}
				if got := e.pathAllowed(a, p); got != want {
					t.Fatalf("allowlist set %d, path %q: engine %v, gitleaks %v", si, p, got, want)
				}
			}
		}
	}
	t.Logf("%d allowed answers for %d paths and %d allowlist sets", allowed, len(paths), len(sets))
	if allowed < 100 {
		t.Fatalf("only %d allowed paths: the test does not exercise the path checks", allowed)
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

// TestOwnLockFiles: the lock-file names are matched as the pattern they replace
// matched them, (?i)(?:^|/)(?:names)$.
func TestOwnLockFiles(t *testing.T) {
	ref := regexp.MustCompile(`(?i)(?:^|/)(?:Cargo\.lock|composer\.lock|Gemfile\.lock|packages\.lock\.json|flake\.lock|mix\.lock|pubspec\.lock|Package\.resolved|bun\.lockb?|uv\.lock|pdm\.lock|Podfile\.lock|conda-lock\.ya?ml|\.terraform\.lock\.hcl|go\.work\.sum)$`)
	var paths []string
	for _, l := range lockFiles {
		paths = append(paths, l, "a/"+l, "a/b/"+strings.ToUpper(l), "x"+l, l+"x", "a/x"+l, l+"/a", strings.ReplaceAll(l, "k", "\u212a"))
	}
	paths = append(paths, "", "/", "Cargo.lock/", "bun.lockbb", "conda-lock.yl", "go.sum", "composer.json")
	for _, p := range paths {
		if got, want := ownPathAllowed(p), ref.MatchString(p); got != want {
			t.Errorf("%q: %v, pattern %v", p, got, want)
		}
	}
}
