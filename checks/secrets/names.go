package secrets

import "strings"

// words spells rule-id words the way their owners do.
var words = map[string]string{
	"api": "API", "aws": "AWS", "gcp": "GCP", "id": "ID", "pat": "personal access token",
	"github": "GitHub", "gitlab": "GitLab", "openai": "OpenAI", "jwt": "JWT", "npm": "npm",
	"pypi": "PyPI", "ci": "CI", "cicd": "CI/CD", "ca": "CA", "oauth": "OAuth", "url": "URL",
	"yaml": "YAML", "tf": "Terraform", "ptt": "pipeline trigger token", "rrt": "runner registration token",
	"scim": "SCIM", "hubspot": "HubSpot", "sendgrid": "SendGrid", "digitalocean": "DigitalOcean",
	"pkcs12": "PKCS#12", "nuget": "NuGet", "rubygems": "RubyGems", "huggingface": "Hugging Face",
	"circleci": "CircleCI", "travisci": "Travis CI", "droneci": "Drone CI", "launchdarkly": "LaunchDarkly",
	"mailchimp": "Mailchimp", "new": "New", "relic": "Relic", "1password": "1Password",
	"planetscale": "PlanetScale", "settlemint": "SettleMint", "mapbox": "Mapbox", "sourcegraph": "Sourcegraph",
	"rapidapi": "RapidAPI", "privateai": "Private AI", "meraki": "Meraki", "clickhouse": "ClickHouse",
	"gocardless": "GoCardless", "typeform": "Typeform", "easypost": "EasyPost", "freshbooks": "FreshBooks",
	"codecov": "Codecov", "sumologic": "Sumo Logic", "jfrog": "JFrog", "frameio": "Frame.io",
	"intra42": "42 Intra", "nytimes": "New York Times", "kucoin": "KuCoin", "infracost": "Infracost",
	"anthropic": "Anthropic", "escapegate": "", "ad": "AD",
}

// nameOf turns a rule id into a short display name: "github-pat" → "GitHub personal access token".
func nameOf(id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	parts := strings.Split(id, "-")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		w, ok := words[p]
		switch {
		case ok && w == "":
			continue
		case ok:
		case i == 0:
			w = strings.ToUpper(p[:1]) + p[1:]
		default:
			w = p
		}
		out = append(out, w)
	}
	s := strings.Join(out, " ")
	if s == "" {
		return id
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// names overrides ids whose words alone read badly.
var names = map[string]string{
	"private-key":                                 "Private key",
	"aws-access-token":                            "AWS access key ID",
	"github-fine-grained-pat":                     "GitHub fine-grained personal access token",
	"github-app-token":                            "GitHub App token",
	"generic-api-key":                             "Possible API key or secret",
	"escapegate-connection-string":                "Connection string with a password",
	"escapegate-connection-string-password-param": "Connection string password parameter",
	"escapegate-password-assignment":              "Hard-coded password",
	"escapegate-secret-assignment":                "Hard-coded secret",
	"kubernetes-secret-yaml":                      "Kubernetes Secret manifest value",
	"slack-webhook-url":                           "Slack webhook URL",
	"microsoft-teams-webhook":                     "Microsoft Teams webhook URL",
	"pkcs12-file":                                 "PKCS#12 key store file",
}

// fixOf says what to do about a leaked credential of rule id: specific where the
// family is known, otherwise the general revoke-and-move advice.
func fixOf(id string) string {
	const store = " Then load it at runtime from a secret store (GitHub Actions secrets, Vault, your cloud's secret manager) instead of the repository."
	switch {
	case strings.HasPrefix(id, "aws-"):
		return "Deactivate and delete the access key in IAM (Security credentials), review CloudTrail for its use, and issue a new one; prefer IAM roles or OIDC federation to long-lived keys." + store
	case strings.HasPrefix(id, "gcp-"):
		return "Delete or regenerate the API key in Google Cloud Console (APIs & Services → Credentials) and restrict the new key to the APIs and referrers that need it." + store
	case strings.HasPrefix(id, "github-"):
		return "Revoke the token (Settings → Developer settings, or the organization's token list) and create a new one with the least scopes and an expiry; in workflows prefer the built-in GITHUB_TOKEN." + store
	case strings.HasPrefix(id, "gitlab-"):
		return "Revoke the token in GitLab (user, project or group access tokens) and create a new one with the least scopes and an expiry." + store
	case strings.HasPrefix(id, "slack-") || id == "microsoft-teams-webhook":
		return "Revoke the token or regenerate the webhook URL in the app's settings; anyone holding it can post as the app." + store
	case strings.HasPrefix(id, "stripe-") || strings.HasPrefix(id, "square") || strings.HasPrefix(id, "plaid-") || strings.HasPrefix(id, "flutterwave-"):
		return "Roll the key in the payment provider's dashboard (live keys first) and review recent API activity." + store
	case id == "private-key" || id == "pkcs12-file" || id == "age-secret-key":
		return "Treat the key as compromised: revoke any certificate issued for it, replace the key pair where it is trusted (servers, deploy keys, signing), and remove the file from history." + store
	case strings.HasPrefix(id, "escapegate-connection-string"), id == "hashicorp-tf-password", id == "nuget-config-password":
		return "Change the database or service account's password now (the old one is in git history), and build the connection string from configuration at runtime, e.g. DATABASE_URL from the environment." + store
	case id == "escapegate-password-assignment", id == "escapegate-secret-assignment":
		return "If this is a real password or secret, change or rotate it where it is used, then read it from the environment or a secret store; use an obvious placeholder in examples." + store
	case id == "generic-api-key":
		return "If this is a live credential, revoke or rotate it at its issuer; if it is not a secret (an identifier, a hash, test data), mark the line with an inline suppression and say why in the PR." + store
	case id == "kubernetes-secret-yaml":
		return "Rotate the values held in the Secret and commit a SealedSecret, an ExternalSecret or a reference to a secret manager instead of the manifest's data." + store
	}
	return "Revoke or rotate this credential at its issuer, then check its audit log for use since the leak." + store
}
