package server_test

import "net/http"

// newHTTPClient keeps connections open between benchmark requests, as GitHub's delivery does.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}
