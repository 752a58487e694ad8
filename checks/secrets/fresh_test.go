package secrets

import (
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/internal/testenv"
)

// Tests of escapegate's rules for service credentials with a self-identifying shape
// (escapegate.toml, after the connection-string and password rules). Every value
// here is made up and built at run time from a prefix and seeded random characters,
// so no source file holds a literal that a secret scanner would flag.

// pieces draws made-up values from a fixed seed: the same values on every run.
type pieces struct{ r *rand.Rand }

func newPieces() *pieces { return &pieces{rand.New(rand.NewSource(20250101))} }

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerAN = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	hexLow  = "0123456789abcdef"
	digits  = "0123456789"
	b64     = alnum + "+/"
	b64url  = alnum + "-_"
)

func (p *pieces) s(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[p.r.Intn(len(alphabet))]
	}
	return string(b)
}

// freshContexts are the files a token-shaped value is placed in; %s is the value,
// line the 1-based line that holds it.
var freshContexts = []struct {
	name, path, tmpl string
	line             int
}{
	{"dotenv", ".env", "# service credentials\nAPP_ENV=production\nSERVICE_TOKEN=%s\nLOG_LEVEL=info\n", 3},
	{"yaml", "config/settings.yaml", "service:\n  endpoint: https://api.internal\n  token: %s\n  timeout: 30\n", 3},
	{"json", "config/credentials.json", "{\n  \"name\": \"worker\",\n  \"token\": \"%s\"\n}\n", 3},
	{"python", "app/client.py", "import os\n\nclient = Client(\n    token=\"%s\",\n)\n", 4},
	{"javascript", "src/client.js", "const { Client } = require('sdk');\n\nconst client = new Client({ token: '%s' });\n", 3},
	{"go", "internal/client/client.go", "package client\n\nconst token = \"%s\"\n", 3},
	{"shell", "scripts/deploy.sh", "#!/usr/bin/env bash\nset -euo pipefail\nexport SERVICE_TOKEN='%s'\n./deploy\n", 3},
	{"dockerfile", "Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nENV SERVICE_TOKEN=\"%s\"\nCMD [\"python\", \"main.py\"]\n", 3},
	{"terraform", "infra/main.tf", "provider \"svc\" {\n  region = \"eu-west-1\"\n  token  = \"%s\"\n}\n", 3},
	{"k8s-secret", "k8s/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  SERVICE_TOKEN: \"%s\"\n", 7},
	{"github-actions", ".github/workflows/ci.yml", "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      SERVICE_TOKEN: %s\n    steps:\n      - run: make test\n", 7},
	{"notebook", "analysis.ipynb", "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"source\": [\n    \"client = Client(token=\\\"%s\\\")\\n\"\n   ]\n  }\n ]\n}\n", 6},
}

// freshToken is a rule whose value is a token placed in every context above;
// prefix is the part a near-miss keeps.
type freshToken struct {
	rule, prefix string
	value        func(p *pieces) string
}

func freshTokens() []freshToken {
	return []freshToken{
		{"escapegate-openai-api-key", "sk-proj-", func(p *pieces) string { return "sk-proj-" + p.s(156, b64url) }},
		{"escapegate-openai-api-key", "sk-svcacct-", func(p *pieces) string { return "sk-svcacct-" + p.s(120, b64url) }},
		{"escapegate-openai-api-key", "sk-", func(p *pieces) string { return "sk-" + p.s(48, alnum) }},
		{"escapegate-doppler-token", "dp.st.prd.", func(p *pieces) string { return "dp.st.prd." + p.s(40, alnum) }},
		{"escapegate-doppler-token", "dp.sa.", func(p *pieces) string { return "dp.sa." + p.s(43, alnum) }},
		{"escapegate-supabase-token", "sbp_", func(p *pieces) string { return "sbp_" + p.s(40, hexLow) }},
		{"escapegate-supabase-token", "sb_secret_", func(p *pieces) string { return "sb_secret_" + p.s(31, b64url) }},
		{"escapegate-netlify-pat", "nfp_", func(p *pieces) string { return "nfp_" + p.s(36, alnum) }},
		{"escapegate-docker-hub-token", "dckr_pat_", func(p *pieces) string { return "dckr_pat_" + p.s(27, b64url) }},
		{"escapegate-docker-hub-token", "dckr_oat_", func(p *pieces) string { return "dckr_oat_" + p.s(32, b64url) }},
		{"escapegate-groq-api-key", "gsk_", func(p *pieces) string { return "gsk_" + p.s(52, alnum) }},
		{"escapegate-xai-api-key", "xai-", func(p *pieces) string { return "xai-" + p.s(80, alnum) }},
		{"escapegate-replicate-api-token", "r8_", func(p *pieces) string { return "r8_" + p.s(37, alnum) }},
		{"escapegate-openrouter-api-key", "sk-or-v1-", func(p *pieces) string { return "sk-or-v1-" + p.s(64, hexLow) }},
		{"escapegate-langsmith-api-key", "lsv2_pt_", func(p *pieces) string { return "lsv2_pt_" + p.s(32, hexLow) + "_" + p.s(10, hexLow) }},
		{"escapegate-pinecone-api-key", "pcsk_", func(p *pieces) string { return "pcsk_" + p.s(6, alnum) + "_" + p.s(63, alnum) }},
		{"escapegate-figma-token", "figd_", func(p *pieces) string { return "figd_" + p.s(40, b64url) }},
		{"escapegate-posthog-personal-api-key", "phx_", func(p *pieces) string { return "phx_" + p.s(43, alnum) }},
		{"escapegate-buildkite-api-token", "bkua_", func(p *pieces) string { return "bkua_" + p.s(40, lowerAN) }},
		{"escapegate-circleci-token", "CCIPAT_", func(p *pieces) string { return "CCIPAT_" + p.s(22, alnum) + "_" + p.s(40, hexLow) }},
		{"escapegate-contentful-pat", "CFPAT-", func(p *pieces) string { return "CFPAT-" + p.s(43, b64url) }},
		{"escapegate-cloudflare-api-token", "cfut_", func(p *pieces) string { return "cfut_" + p.s(40, alnum) + p.s(8, hexLow) }},
		{"escapegate-tailscale-key", "tskey-auth-", func(p *pieces) string { return "tskey-auth-" + p.s(7, alnum) + "CNTRL-" + p.s(32, alnum) }},
		{"escapegate-google-oauth-client-secret", "GOCSPX-", func(p *pieces) string { return "GOCSPX-" + p.s(28, b64url) }},
		{"escapegate-google-oauth-refresh-token", "1//0", func(p *pieces) string { return "1//0" + p.s(2, alnum) + p.s(100, b64url) }},
		{"escapegate-google-oauth-access-token", "ya29.", func(p *pieces) string { return "ya29." + p.s(160, b64url) }},
		{"escapegate-firebase-cloud-messaging-server-key", "AAAA", func(p *pieces) string {
			return "AAAA" + p.s(7, b64url) + ":APA91b" + p.s(134, b64url)
		}},
		{"escapegate-mailchimp-api-key", "", func(p *pieces) string { return p.s(32, hexLow) + "-us" + p.s(1, "123456789") + p.s(1, digits) }},
		{"escapegate-mailgun-api-key", "key-", func(p *pieces) string { return "key-" + p.s(32, lowerAN) }},
		{"escapegate-new-relic-key", "NRAK-", func(p *pieces) string { return "NRAK-" + p.s(27, upperAN) }},
		{"escapegate-new-relic-key", "NRII-", func(p *pieces) string { return "NRII-" + p.s(32, b64url) }},
		{"escapegate-new-relic-key", "", func(p *pieces) string { return p.s(36, hexLow) + "NRAL" }},
		{"escapegate-discord-webhook-url", "https://discord.com/api/webhooks/", func(p *pieces) string {
			return "https://discord.com/api/webhooks/" + p.s(1, "123456789") + p.s(18, digits) + "/" + p.s(68, b64url)
		}},
		{"escapegate-mapbox-secret-token", "sk.eyJ", func(p *pieces) string { return "sk.eyJ1Ijoi" + p.s(50, b64url) + "." + p.s(22, b64url) }},
		{"escapegate-square-oauth-secret", "sq0csp-", func(p *pieces) string { return "sq0csp-" + p.s(43, b64url) }},
		{"escapegate-stripe-webhook-secret", "whsec_", func(p *pieces) string { return "whsec_" + p.s(32, alnum) }},
		{"escapegate-braintree-access-token", "access_token$production$", func(p *pieces) string {
			return "access_token$production$" + p.s(16, lowerAN) + "$" + p.s(32, hexLow)
		}},
		{"escapegate-telegram-bot-token", "", func(p *pieces) string { return p.s(1, "123456789") + p.s(8, digits) + ":AA" + p.s(33, b64url) }},
		{"escapegate-atlassian-api-token", "ATATT3xFfG", func(p *pieces) string { return "ATATT3xFfGF0" + p.s(150, b64url) + "=" + p.s(8, upperAN) }},
		{"escapegate-bitbucket-app-password", "ATBB", func(p *pieces) string { return "ATBB" + p.s(32, alnum) }},
		{"escapegate-sonar-token", "sqp_", func(p *pieces) string { return "sqp_" + p.s(40, hexLow) }},
		{"escapegate-clickup-api-token", "pk_", func(p *pieces) string { return "pk_" + p.s(8, digits) + "_" + p.s(32, upperAN) }},
		{"escapegate-base64-private-key", "LS0tLS1CRUdJTi", func(p *pieces) string {
			return "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo" + p.s(600, b64) + "=="
		}},
		{"escapegate-notion-api-token", "secret_", func(p *pieces) string { return "secret_" + p.s(43, alnum) }},
		{"escapegate-pulumi-access-token", "pul-", func(p *pieces) string { return "pul-" + p.s(8, "ghijklmnopqrstuvwxyz") + p.s(32, lowerAN) }},
		{"escapegate-rubygems-api-key", "rubygems_", func(p *pieces) string { return "rubygems_" + p.s(8, "ghijklmnopqrstuvwxyz") + p.s(40, lowerAN) }},
		{"escapegate-sendgrid-api-key", "SG.", func(p *pieces) string { return "SG." + p.s(22, b64url) + "." + p.s(48, b64url) }},
	}
}

// TestFreshTokensInContext places each made-up value in every kind of file: the
// rule must report it at its line, and nothing else may be reported.
func TestFreshTokensInContext(t *testing.T) {
	e := mustEngine(t, Options{})
	p := newPieces()
	noteSample(t)
	for ti, tok := range freshTokens() {
		v := tok.value(p)
		for ci, c := range freshContexts {
			if !everyNth(ti+ci, 3) { // the default run's sample: each token in every third file
				continue
			}
			t.Run(tok.rule+"/"+c.name, func(t *testing.T) {
				text := fmt.Sprintf(c.tmpl, v)
				fs := e.ScanFile(testFP, "org/repo", c.path, linesOf(text, 1), nil)
				expectOnly(t, fs, tok.rule, c.line, v)
			})
		}
	}
}

func expectOnly(t *testing.T, fs []checks.Finding, rule string, line int, value string) {
	t.Helper()
	found := false
	for _, f := range fs {
		if f.Rule == rule && f.Line == line {
			found = true
			continue
		}
		t.Errorf("unexpected finding %s at line %d: %s", f.Rule, f.Line, f.Message)
	}
	if !found {
		t.Errorf("%s not reported at line %d for %s", rule, line, checks.Redact(value))
	}
}

// TestFreshTokenNearMisses: placeholders, truncated values and documented examples
// with the same prefix, in the same files, are not reported by any rule.
func TestFreshTokenNearMisses(t *testing.T) {
	e := mustEngine(t, Options{})
	p := newPieces()
	noteSample(t)
	pair := 0
	for _, tok := range freshTokens() {
		v := tok.value(p)
		n := len(v) - len(tok.prefix)
		misses := map[string]string{
			"x-run":       tok.prefix + strings.Repeat("x", n),
			"angle":       tok.prefix + "<your-token>",
			"too-short":   tok.prefix + v[len(tok.prefix):len(tok.prefix)+min(12, n/2)],
			"doc-example": v[:len(v)-7] + "EXAMPLE",
			"env-ref":     "${SERVICE_TOKEN}",
		}
		if tok.prefix == "" { // a prefix-free shape: a run of x is not one
			misses["x-run"] = strings.Repeat("x", len(v))
		}
		for _, name := range slices.Sorted(maps.Keys(misses)) {
			m := misses[name]
			pair++
			for ci, c := range freshContexts {
				if !everyNth(pair+ci, 4) { // the default run's sample: each near-miss in every fourth file
					continue
				}
				t.Run(tok.rule+"/"+name+"/"+c.name, func(t *testing.T) {
					text := fmt.Sprintf(c.tmpl, m)
					for _, f := range e.ScanFile(testFP, "org/repo", c.path, linesOf(text, 1), nil) {
						// A short random value under a credential name is still
						// generic-api-key's to report; the service's rule must not.
						if name == "too-short" && !strings.HasPrefix(f.Rule, "escapegate-") {
							continue
						}
						t.Errorf("near-miss %q reported by %s at line %d", m, f.Rule, f.Line)
					}
				})
			}
		}
	}
}

// freshFile is a whole file: a rule that needs its surroundings (a key name, a
// file name, a connection string).
type freshFile struct {
	name, path, text string
	rule             string // "" means nothing may be reported
	line             int
}

func freshFiles() []freshFile {
	p := newPieces()
	awsSecret := p.s(40, b64)
	storageKey := p.s(86, b64) + "=="
	sbKey := p.s(43, b64) + "="
	sig := p.s(43, alnum) + "%3D"
	pw := p.s(14, alnum)
	legacyNpm := p.s(8, hexLow) + "-" + p.s(4, hexLow) + "-" + p.s(4, hexLow) + "-" + p.s(4, hexLow) + "-" + p.s(12, hexLow)
	dockerAuth := "ZGVwbG95OnM" + p.s(21, alnum) + "="
	// The storage emulator's published development key, in pieces.
	azurite := "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6" + "IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	return []freshFile{
		// AWS secret access keys under their usual names.
		{"aws credentials file", ".aws/credentials", "[default]\naws_access_key_id = AKIA" + p.s(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") + "\naws_secret_access_key = " + awsSecret + "\n", "escapegate-aws-secret-access-key", 3},
		{"aws env in shell", "ci/env.sh", "export AWS_DEFAULT_REGION=us-east-1\nexport AWS_SECRET_ACCESS_KEY=" + awsSecret + "\n", "escapegate-aws-secret-access-key", 2},
		{"aws secret in python", "app/s3.py", "import boto3\n\ns3 = boto3.client(\n    \"s3\",\n    aws_secret_access_key=\"" + awsSecret + "\",\n)\n", "escapegate-aws-secret-access-key", 5},
		{"aws secret in terraform", "infra/provider.tf", "provider \"aws\" {\n  region     = \"us-east-1\"\n  secret_key = \"" + awsSecret + "\"\n}\n", "escapegate-aws-secret-access-key", 3},
		{"aws secret in CloudFormation JSON", "stack.json", "{\n  \"SecretAccessKey\": \"" + awsSecret + "\"\n}\n", "escapegate-aws-secret-access-key", 2},
		{"aws secret from the environment", "app/s3.py", "aws_secret_access_key = os.environ[\"AWS_SECRET_ACCESS_KEY\"]\n", "", 0},
		{"aws documented example secret", "README.md", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY\n", "", 0},
		{"aws secret placeholder", ".env", "AWS_SECRET_ACCESS_KEY=" + strings.Repeat("x", 40) + "\n", "", 0},
		// Azure storage, Service Bus and SAS.
		{"azure storage connection string", "appsettings.json", "{\n  \"ConnectionStrings\": {\n    \"Blob\": \"DefaultEndpointsProtocol=https;AccountName=prodfiles;AccountKey=" + storageKey + ";EndpointSuffix=core.windows.net\"\n  }\n}\n", "escapegate-azure-storage-key", 3},
		{"azure storage key in env", ".env", "AZURE_STORAGE_ACCOUNT=prodfiles\nAZURE_STORAGE_KEY=" + storageKey + "\n", "escapegate-azure-storage-key", 2},
		{"azure service bus connection string", "local.settings.json", "{\n  \"Values\": {\n    \"ServiceBus\": \"Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + sbKey + "\"\n  }\n}\n", "escapegate-azure-storage-key", 3},
		{"azure SAS URL", "scripts/upload.sh", "curl -X PUT -T build.zip \"https://prodfiles.blob.core.windows.net/drops/build.zip?sv=2022-11-02&ss=b&srt=o&sp=rwc&se=2030-01-01T00:00:00Z&spr=https&sig=" + sig + "\"\n", "escapegate-azure-sas-token", 1},
		{"azure storage emulator key", "docker-compose.yml", "services:\n  app:\n    environment:\n      STORAGE: \"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + azurite + ";BlobEndpoint=http://azurite:10000/devstoreaccount1;\"\n", "", 0},
		{"azure storage key placeholder", "appsettings.json", "{\"Blob\": \"DefaultEndpointsProtocol=https;AccountName=x;AccountKey=<your-account-key>;EndpointSuffix=core.windows.net\"}\n", "", 0},
		{"azure SAS signature placeholder", "README.md", "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=<signature>\n", "", 0},
		// Cloudinary URL.
		{"cloudinary URL in env", ".env", "CLOUDINARY_URL=cloudinary://" + p.s(15, digits) + ":" + p.s(27, b64url) + "@acme-media\n", "escapegate-cloudinary-url", 1},
		{"cloudinary URL in python", "settings.py", "import cloudinary\n\ncloudinary.config(cloudinary_url=\"cloudinary://" + p.s(15, digits) + ":" + p.s(27, b64url) + "@acme-media\")\n", "escapegate-cloudinary-url", 3},
		{"cloudinary URL placeholder", ".env.example", "CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>\n", "", 0},
		{"cloudinary URL from variables", "settings.py", "url = f\"cloudinary://{key}:{secret}@{cloud}\"\n", "", 0},
		// Registry credentials.
		{"npmrc legacy token", ".npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=" + legacyNpm + "\n", "escapegate-npm-auth-token", 2},
		{"yarnrc token", ".yarnrc.yml", "npmRegistryServer: \"https://npm.pkg.github.com\"\nnpmAuthToken: \"" + p.s(24, alnum) + p.s(12, lowerAN) + "\"\n", "escapegate-npm-auth-token", 2},
		{"npmrc token from the environment", ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", "", 0},
		{"docker config auth", ".docker/config.json", "{\n  \"auths\": {\n    \"registry.acme.io\": {\n      \"auth\": \"" + dockerAuth + "\"\n    }\n  }\n}\n", "escapegate-docker-config-auth", 4},
		{"docker config without credentials", ".docker/config.json", "{\n  \"auths\": {\n    \"registry.acme.io\": {\n      \"auth\": \"\"\n    }\n  },\n  \"credsStore\": \"desktop\"\n}\n", "", 0},
		{"netrc password", ".netrc", "machine api.acme.io\n  login deploy\n  password " + pw + "\n", "escapegate-netrc-password", 3},
		{"netrc one line", "_netrc", "machine git.acme.io login ci password " + pw + "\n", "escapegate-netrc-password", 1},
		{"password in a text file is not a netrc", "notes.txt", "the password " + pw + " is rotated\n", "", 0},
		// Near-misses of prefix-free shapes.
		{"mailgun key in code without the word mailgun", "notify.py", "MG = \"key-" + p.s(32, lowerAN) + "\"\n", "escapegate-mailgun-api-key", 1},
		{"language tag is not a mailchimp key", "i18n.py", "LOCALES = [\"en-us\", \"fr-fr\"]\n", "", 0},
		{"mailchimp key without the data center", "app.py", "MAILCHIMP = \"" + p.s(32, hexLow) + "\"\n", "", 0},
		{"clock time is not a telegram token", "cron.yaml", "schedule: \"12:AA\"\n", "", 0},
		{"identifier after secret_ is not a notion token", "app.py", "secret_managerClientConfigurationDefaults = None\n", "", 0},
		{"certificate in base64 is not a private key", "kubeconfig", "clusters:\n- cluster:\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg" + p.s(400, b64) + "==\n", "", 0},
		// gitleaks reports its own fixed-length shapes: escapegate's rule for other lengths stays silent.
		{"hexadecimal pulumi token is gitleaks'", "Pulumi.yaml", "token: pul-" + p.s(40, hexLow) + "\n", "pulumi-api-token", 1},
		{"hexadecimal rubygems key is gitleaks'", ".gem/credentials", ":rubygems_api_key: rubygems_" + p.s(48, hexLow) + "\n", "rubygems-api-token", 1},
		{"66-character sendgrid key is gitleaks'", ".env", "SENDGRID_API_KEY=SG." + p.s(22, b64url) + "." + p.s(43, b64url) + "\n", "sendgrid-api-token", 1},
		{"openai key with the marker is gitleaks'", ".env", "OPENAI_API_KEY=sk-proj-" + p.s(74, b64url) + "T3Blbk" + "FJ" + p.s(74, b64url) + "\n", "openai-api-key", 1},
	}
}

func TestFreshFiles(t *testing.T) {
	e := mustEngine(t, Options{})
	for _, f := range freshFiles() {
		t.Run(f.name, func(t *testing.T) {
			fs := e.ScanFile(testFP, "org/repo", f.path, linesOf(f.text, 1), nil)
			if f.rule == "" {
				for _, x := range fs {
					if strings.HasPrefix(x.Rule, "escapegate-") {
						t.Errorf("reported by %s at line %d: %s", x.Rule, x.Line, x.Message)
					}
				}
				return
			}
			found := false
			for _, x := range fs {
				switch {
				case x.Rule == f.rule && x.Line == f.line:
					found = true
				case x.Rule == "aws-access-token" && f.rule == "escapegate-aws-secret-access-key":
					// the key id next to the secret is gitleaks' to report
				default:
					t.Errorf("unexpected finding %s at line %d: %s", x.Rule, x.Line, x.Message)
				}
			}
			if !found {
				t.Errorf("%s not reported at line %d", f.rule, f.line)
			}
		})
	}
}

// TestFreshGitleaksFamiliesInContext checks that common credentials gitleaks' rules
// cover are found in the files they are usually added to, including a private key
// split over added lines and one inside a JSON string.
func TestFreshGitleaksFamiliesInContext(t *testing.T) {
	e := mustEngine(t, Options{})
	p := newPieces()
	pemLines := []string{"-----BEGIN " + "PRIVATE KEY-----"}
	for range 10 {
		pemLines = append(pemLines, p.s(64, b64))
	}
	pemLines = append(pemLines, p.s(20, b64)+"==", "-----END "+"PRIVATE KEY-----")
	tokens := []struct{ rule, value string }{
		{"github-pat", "ghp_" + p.s(36, alnum)},
		{"github-fine-grained-pat", "github_pat_" + p.s(22, alnum) + "_" + p.s(59, alnum)},
		{"gitlab-pat", "glpat-" + p.s(20, b64url)},
		{"slack-bot-token", "xoxb-" + p.s(12, digits) + "-" + p.s(13, digits) + "-" + p.s(24, alnum)},
		{"aws-access-token", "AKIA" + p.s(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")},
		{"anthropic-api-key", "sk-ant-api03-" + p.s(93, b64url) + "AA"},
		{"gcp-api-key", "AIza" + p.s(35, b64url)},
		{"huggingface-access-token", "hf_" + p.s(34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")},
		{"npm-access-token", "npm_" + p.s(36, alnum)},
		{"digitalocean-pat", "dop_v1_" + p.s(64, hexLow)},
		{"shopify-access-token", "shpat_" + p.s(32, hexLow)},
		{"stripe-access-token", "sk_live_" + p.s(99, alnum)},
		{"databricks-api-token", "dapi" + p.s(32, hexLow)},
		{"grafana-service-account-token", "glsa_" + p.s(32, alnum) + "_" + p.s(8, hexLow)},
		{"linear-api-key", "lin_api_" + p.s(40, alnum)},
		{"postman-api-token", "PMAK-" + p.s(24, hexLow) + "-" + p.s(34, hexLow)},
		{"doppler-api-token", "dp.pt." + p.s(43, alnum)},
	}
	noteSample(t)
	for ti, tok := range tokens {
		for ci, c := range freshContexts {
			if !everyNth(ti+ci, 3) { // the default run's sample: each token in every third file
				continue
			}
			t.Run(tok.rule+"/"+c.name, func(t *testing.T) {
				fs := e.ScanFile(testFP, "org/repo", c.path, linesOf(fmt.Sprintf(c.tmpl, tok.value), 1), nil)
				want := tok.rule
				if c.name == "notebook" && endsAtQuoteOrBlank[tok.rule] {
					want = "escapegate-escaped-quote-token"
				}
				expectOnly(t, fs, want, c.line, tok.value)
			})
		}
	}
	t.Run("private key over added lines", func(t *testing.T) {
		text := "# deploy key\n" + strings.Join(pemLines, "\n") + "\n"
		fs := e.ScanFile(testFP, "org/repo", "deploy/id_ed25519", linesOf(text, 1), nil)
		expectOnly(t, fs, "private-key", 2, pemLines[1])
	})
	t.Run("service account JSON", func(t *testing.T) {
		text := "{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key\": \"" + strings.Join(pemLines, `\n`) + `\n` + "\",\n  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"\n}\n"
		fs := e.ScanFile(testFP, "org/repo", "gcp/sa.json", linesOf(text, 1), nil)
		expectOnly(t, fs, "private-key", 4, pemLines[1])
	})
	t.Run("URL with credentials", func(t *testing.T) {
		text := "remote:\n  url: https://deploy:" + p.s(20, alnum) + "@git.acme.io/org/repo.git\n"
		fs := e.ScanFile(testFP, "org/repo", "ci/config.yaml", linesOf(text, 1), nil)
		expectOnly(t, fs, "escapegate-url-credentials", 2, "")
	})
}

// endsAtQuoteOrBlank are gitleaks rules whose value must be followed by a quote, a
// blank, ; or the line's end: in a notebook cell the value is followed by \" and
// escapegate-escaped-quote-token reports it instead.
var endsAtQuoteOrBlank = map[string]bool{
	"anthropic-api-key": true, "gcp-api-key": true, "huggingface-access-token": true, "npm-access-token": true,
	"digitalocean-pat": true, "stripe-access-token": true, "databricks-api-token": true,
	"grafana-service-account-token": true, "postman-api-token": true,
}

// fpExceptions are false-positive samples of gitleaks or trufflehog on which an
// escapegate rule fires, with the reason that is right.
var fpExceptions = map[string]string{
	"$config = array(\n\t\t\t\"secret_key\" => \"sk_" + "ubb4yN3mzqGR2x8#P7r5&@*xC$utE\",\n\t\t);": "gitleaks' fp is about its rule's path (a Freemius key outside a .php file); a high-entropy value with symbols under secret_key is what escapegate-secret-assignment reports",
	"MailchimpSDK.initialize(token: " + "3012a5754bbd716926f99c028f7ea428" + "-us18)":              "gitleaks' fp is about its regex's shape (no = or : after the keyword); the value is a Mailchimp key of the real format, which escapegate-mailchimp-api-key reports",
}

// TestEscapegateRulesSilentOnFalsePositiveSamples: no escapegate rule fires on a
// false-positive sample of gitleaks or trufflehog (de-duplication off, so a rule
// cannot hide behind another).
func TestEscapegateRulesSilentOnFalsePositiveSamples(t *testing.T) {
	e := mustEngine(t, Options{})
	own := func(fs []checks.Finding) []string {
		var out []string
		for _, f := range fs {
			if strings.HasPrefix(f.Rule, "escapegate-") {
				out = append(out, f.Rule)
			}
		}
		return out
	}
	th := readJSONL[trufflehogSample](t, testenv.Shared(t, "corpus/secrets/trufflehog-samples.jsonl"))
	n := 0
	for i, s := range th {
		if s.Label != "fp" {
			continue
		}
		n++
		if got := own(e.scan(testFP, "org/repo", "config.yaml", linesOf(s.Text, 1), nil, false)); len(got) > 0 {
			t.Errorf("trufflehog fp %d (%s) fired %v: %q", i, s.Detector, got, checks.Redact(s.Text))
		}
	}
	gl := readJSONL[gitleaksSample](t, testenv.Shared(t, "corpus/secrets/gitleaks-samples.jsonl"))
	for i, s := range gl {
		if s.Label != "fp" {
			continue
		}
		n++
		path := s.Path
		if path == "" {
			path = "sample.txt"
		}
		got := own(e.scan(testFP, "org/repo", path, linesOf(s.Text, 1), nil, false))
		if _, ok := fpExceptions[s.Text]; ok {
			if len(got) == 0 {
				t.Errorf("gitleaks fp %d (%s) is listed in fpExceptions but no longer fires", i, s.RuleID)
			}
			continue
		}
		if len(got) > 0 {
			t.Errorf("gitleaks fp %d (%s) fired %v: %q", i, s.RuleID, got, checks.Redact(s.Text))
		}
	}
	t.Logf("%d false-positive samples", n)
}
