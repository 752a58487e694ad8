package fakegithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// HookPath is where escapegate receives webhooks.
const HookPath = "/api/github/hook"

// Sign returns GitHub's X-Hub-Signature-256 value for body: "sha256=" and the hex HMAC-SHA256 under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// NewWebhookRequest builds a POST of payload to baseURL + HookPath, signed and with the headers GitHub sends.
func NewWebhookRequest(ctx context.Context, baseURL string, secret []byte, event, deliveryID string, payload []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+HookPath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("build %s webhook request: %w", event, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", Sign(secret, payload))
	return req, nil
}
