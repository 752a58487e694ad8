package events_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/escapegate/escapegate/internal/testenv"
)

// webhookDefinitions reads the definitions of the published webhook schema
// (octokit/webhooks) from ../shared, or skips the test when it is absent.
func webhookDefinitions(t *testing.T) map[string]any {
	t.Helper()
	path := testenv.Shared(t, "fixtures/webhook-schemas/octokit-webhooks-7.6.1.schema.json")
	raw, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	defs, _ := doc["definitions"].(map[string]any)
	return defs
}
