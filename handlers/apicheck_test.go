package handlers_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/testenv"
)

// apiSpec loads GitHub's REST API description once per test binary (it is 4 MB).
var apiSpec = sync.OnceValues(func() (*apivalidate.Validator, error) {
	dir := testenv.SharedDir()
	if dir == "" {
		return nil, nil
	}
	return apivalidate.Load(context.Background(), filepath.Join(dir, "fixtures", "openapi", "api.github.com.2022-07.json"),
		filepath.Join(dir, "fixtures", "openapi", "api.github.com.2026.json"))
})

// checkAPI validates every request escapegate sent to the fake GitHub during a test
// against GitHub's API description: wrong field names, enum values or limits fail the
// test. It does nothing when ../shared is absent.
func (e *env) checkAPI() {
	v, err := apiSpec()
	if err != nil {
		e.t.Fatalf("loading GitHub's API description: %v", err)
	}
	if v == nil {
		return
	}
	for _, p := range v.ValidateAll(context.Background(), e.h.GitHub.Requests()) {
		e.t.Errorf("GitHub would refuse: %s", p)
	}
}

// TestAPIDescriptionLoads keeps the validation from silently doing nothing when shared/ exists.
func TestAPIDescriptionLoads(t *testing.T) {
	testenv.Shared(t, "fixtures/openapi/api.github.com.2022-07.json")
	if v, err := apiSpec(); err != nil || v == nil {
		t.Fatalf("validator = %v, %v", v, err)
	}
}
