package config

import (
	"net/url"
	"strings"
	"time"
)

// How long GitHub keeps an app's webhook deliveries, the furthest back the recovery
// sweep can ask for a redelivery: 3 days on github.com (and GHE.com), 7 days on GitHub
// Enterprise Server.
const (
	HostedDeliveryWindow     = 72 * time.Hour
	EnterpriseDeliveryWindow = 7 * 24 * time.Hour
)

// hostedAPI is github.com's REST API, the default github.v3_api_url.
const hostedAPI = "https://api.github.com/"

// windowUnset marks recovery.window as not given by file or environment, so that Load
// gives it the configured host's window.
const windowUnset = -1

// Enterprise reports whether a github.v3_api_url is a GitHub Enterprise Server's
// (https://HOST/api/v3/): anything but github.com's API and GHE.com's api.SUBDOMAIN.ghe.com.
func Enterprise(v3APIURL string) bool {
	u, err := url.Parse(v3APIURL)
	if err != nil || u.Host == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return host != "api.github.com" && !strings.HasSuffix(host, ".ghe.com")
}

// DeliveryWindow is how long the host of a github.v3_api_url keeps webhook deliveries:
// recovery.window's default.
func DeliveryWindow(v3APIURL string) time.Duration {
	if Enterprise(v3APIURL) {
		return EnterpriseDeliveryWindow
	}
	return HostedDeliveryWindow
}
