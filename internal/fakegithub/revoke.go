package fakegithub

import (
	"encoding/json"
	"net/http"
	"strings"
)

const docRevoke = "https://docs.github.com/rest/credentials/revoke#revoke-a-list-of-credentials"

// revokeCredentials serves POST /credentials/revoke as GitHub does: 403 to an
// authenticated request, 422 without 1 to 1000 credentials, else 202. The recorded
// request keeps only each credential's first four characters.
func (f *Server) revokeCredentials(c *call) {
	if c.r.Header.Get("Authorization") != "" {
		writeError(c.w, http.StatusForbidden, "Authenticated requests are not allowed", docRevoke)
		return
	}
	var in struct {
		Credentials []string `json:"credentials"`
	}
	if !c.decode(&in) {
		return
	}
	if len(in.Credentials) == 0 || len(in.Credentials) > 1000 {
		writeValidation(c.w, docRevoke, []fieldError{{Resource: "Credentials", Field: "credentials", Code: "invalid"}})
		return
	}
	f.revokeCalls++
	f.revoked = append(f.revoked, in.Credentials...)
	masked := make([]string, len(in.Credentials))
	for i, cr := range in.Credentials {
		masked[i] = cr[:min(4, len(cr))] + strings.Repeat("x", max(0, len(cr)-4))
	}
	if b, err := json.Marshal(map[string]any{"credentials": masked}); err == nil && len(f.requests) > 0 {
		f.requests[len(f.requests)-1].Body = b
	}
	writeJSON(c.w, http.StatusAccepted, map[string]any{})
}

// Revoked returns the credentials revoked so far and how many requests revoked them.
func (f *Server) Revoked() (credentials []string, requests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.revoked...), f.revokeCalls
}
