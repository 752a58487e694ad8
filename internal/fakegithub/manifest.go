package fakegithub

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

const docManifest = "https://docs.github.com/rest/apps/apps#create-a-github-app-from-a-manifest"

// manifestCode is a code of the manifest flow: GitHub hands it to the redirect URL and
// it may be exchanged once, within an hour.
type manifestCode struct {
	manifest map[string]any
	org      string
	used     bool
	at       time.Time
}

// ManifestApp is an app the fake created from a manifest (ManifestApps).
type ManifestApp struct {
	ID            int64
	Slug, Org     string
	Manifest      map[string]any
	WebhookSecret string
	PEM           string
}

// ManifestApps lists the apps created through the manifest flow's conversions, in order.
func (f *Server) ManifestApps() []ManifestApp {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ManifestApp(nil), f.manifestApps...)
}

// newAppFromManifest is the web side of the flow (github.com/settings/apps/new or
// /organizations/{org}/settings/apps/new): the form posts the manifest; GitHub (after
// the user confirms, here at once) redirects to its redirect_url with a one-time code
// and the state the form's URL carried.
func (f *Server) newAppFromManifest(c *call, org string) {
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		http.Error(c.w, "bad form", http.StatusBadRequest)
		return
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(form.Get("manifest")), &m); err != nil {
		http.Error(c.w, "Invalid GitHub App configuration: manifest is not JSON", http.StatusUnprocessableEntity)
		return
	}
	redirect, _ := m["redirect_url"].(string)
	ru, err := url.Parse(redirect)
	if redirect == "" || err != nil || ru.Scheme == "" {
		http.Error(c.w, "Invalid GitHub App configuration: redirect_url", http.StatusUnprocessableEntity)
		return
	}
	code := randHex(10)
	if f.manifestCodes == nil {
		f.manifestCodes = map[string]*manifestCode{}
	}
	f.manifestCodes[code] = &manifestCode{manifest: m, org: org, at: f.now()}
	q := ru.Query()
	q.Set("code", code)
	if st := c.r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
	}
	ru.RawQuery = q.Encode()
	http.Redirect(c.w, c.r, ru.String(), http.StatusFound)
}

// convertManifest is POST /app-manifests/{code}/conversions: 201 with the new app's
// credentials once per code, 404 for an unknown, used or expired code.
func (f *Server) convertManifest(c *call) {
	mc, ok := f.manifestCodes[c.segs[1]]
	if !ok || mc.used || f.now().Sub(mc.at) > time.Hour {
		writeNotFound(c.w, docManifest)
		return
	}
	mc.used = true
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		writeError(c.w, http.StatusInternalServerError, err.Error(), docManifest)
		return
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	f.lastID++
	id := 1000 + f.lastID
	name, _ := mc.manifest["name"].(string)
	if name == "" {
		name = "app"
	}
	slug := fmt.Sprintf("%s-%d", name, id)
	owner := user("octocat")
	if mc.org != "" {
		owner = map[string]any{"login": mc.org, "id": len(mc.org), "type": "Organization", "site_admin": false}
	}
	secret := randHex(20)
	f.manifestApps = append(f.manifestApps, ManifestApp{ID: id, Slug: slug, Org: mc.org, Manifest: mc.manifest, WebhookSecret: secret, PEM: pemKey})
	now := f.now().UTC().Format(time.RFC3339)
	writeJSON(c.w, http.StatusCreated, map[string]any{
		"id": id, "slug": slug, "node_id": fmt.Sprintf("A_%d", id), "owner": owner, "name": name,
		"description": mc.manifest["description"], "external_url": mc.manifest["url"],
		"html_url": f.base() + "/apps/" + slug, "created_at": now, "updated_at": now,
		"permissions": mc.manifest["default_permissions"], "events": mc.manifest["default_events"],
		"client_id": "Iv1." + randHex(8), "client_secret": randHex(20), "webhook_secret": secret, "pem": pemKey,
	})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
