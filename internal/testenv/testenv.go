// Package testenv finds the project's shared material (../shared beside the
// repository) for tests, which must skip cleanly when it is absent.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedDir returns the absolute path of the shared/ folder that sits beside the
// repository's root, or "" when there is none. ESCAPEGATE_SHARED overrides it.
func SharedDir() string {
	if d := os.Getenv("ESCAPEGATE_SHARED"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <root>/internal/testenv/testenv.go
	root := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(filepath.Dir(root), "shared")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	return ""
}

// RepoRoot returns the repository's root folder.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// Shared returns the path of rel inside shared/, skipping the test when it is absent.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		t.Skip("../shared is absent: skipping a test that needs its data")
	}
	p := filepath.Join(d, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is absent: %v", p, err)
	}
	return p
}
