package fakegithub

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOAuthFlow(t *testing.T) {
	f := New()
	defer f.Close()
	f.SetOAuthClient("Iv1.x", "secret")
	base := strings.TrimRight(f.URL(), "/")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(q url.Values) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(base + "/login/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	cb := "http://app.example/ui/auth/callback"
	if r := authorize(url.Values{"client_id": {"unknown"}, "redirect_uri": {cb}}); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown client: %d", r.StatusCode)
	}
	// Nobody signed in: the fake shows its sign-in form.
	if r := authorize(url.Values{"client_id": {"Iv1.x"}, "redirect_uri": {cb}, "state": {"s1"}}); r.StatusCode != http.StatusOK {
		t.Errorf("form: %d", r.StatusCode)
	}
	f.SetWebUser("sec-lead")
	r := authorize(url.Values{"client_id": {"Iv1.x"}, "redirect_uri": {cb}, "state": {"s1"}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	code := loc.Query().Get("code")
	if r.StatusCode != http.StatusFound || loc.Query().Get("state") != "s1" || code == "" || !strings.HasPrefix(loc.String(), cb) {
		t.Fatalf("authorize: %d %s", r.StatusCode, loc)
	}
	exchange := func(form url.Values) map[string]any {
		t.Helper()
		resp, err := http.PostForm(base+"/login/oauth/access_token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &m); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		return m
	}
	for name, tc := range map[string]struct {
		form url.Values
		err  string
	}{
		"wrong secret":   {url.Values{"client_id": {"Iv1.x"}, "client_secret": {"nope"}, "code": {code}}, "incorrect_client_credentials"},
		"wrong code":     {url.Values{"client_id": {"Iv1.x"}, "client_secret": {"secret"}, "code": {"0000"}}, "bad_verification_code"},
		"wrong callback": {url.Values{"client_id": {"Iv1.x"}, "client_secret": {"secret"}, "code": {code}, "redirect_uri": {"http://evil.example/"}}, "redirect_uri_mismatch"},
	} {
		if got := exchange(tc.form); got["error"] != tc.err {
			t.Errorf("%s: %v", name, got)
		}
	}
	ok := exchange(url.Values{"client_id": {"Iv1.x"}, "client_secret": {"secret"}, "code": {code}, "redirect_uri": {cb}})
	tok, _ := ok["access_token"].(string)
	if tok == "" {
		t.Fatalf("no token: %v", ok)
	}
	if again := exchange(url.Values{"client_id": {"Iv1.x"}, "client_secret": {"secret"}, "code": {code}}); again["error"] != "bad_verification_code" {
		t.Errorf("a code exchanged twice: %v", again)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var u struct{ Login string }
	_ = json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if u.Login != "sec-lead" {
		t.Errorf("GET /user: %q", u.Login)
	}
	req.Header.Set("Authorization", "Bearer forged")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged token: %v %v", resp.Status, err)
	}
}
