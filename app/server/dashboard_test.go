package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/store/bolt"
)

// TestDashboardMountedOnlyWhenEnabled: /ui is on the webhook's mux when the server is
// given UI options (ui.enabled) and absent otherwise; the hook keeps its routes either way.
func TestDashboardMountedOnlyWhenEnabled(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ui *dashboard.Options
		if enabled {
			ui = &dashboard.Options{BaseURL: "https://escapegate.example.com", SessionKey: []byte("0123456789abcdef0123456789abcdef")}
		}
		srv, err := server.New(server.Options{Store: st, Clients: func(int64) (gh.Client, error) { return nil, errors.New("no GitHub") },
			WebhookSecret: secret, FingerprintKey: []byte("k"), Logger: zerolog.Nop(), UI: ui})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		want := map[string]int{"/ui/org/acme": http.StatusNotFound, "/ui": http.StatusNotFound, "/healthz": http.StatusOK}
		if enabled {
			want = map[string]int{"/ui/org/acme": http.StatusSeeOther, "/ui": http.StatusMovedPermanently, "/ui/login": http.StatusOK, "/healthz": http.StatusOK}
		}
		for path, code := range want {
			resp, err := noRedirect.Get(hs.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != code {
				t.Errorf("enabled=%v %s: %d, want %d", enabled, path, resp.StatusCode, code)
			}
		}
		hs.Close()
		srv.Wait()
		_ = st.Close()
	}
}
