package secrets

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// RulesDoc renders docs/secret-rules.md from the engine's rules; the test
// TestRulesDocIsCurrent fails when the committed file differs (regenerate with
// ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/secrets -run TestRulesDocIsCurrent).
func RulesDoc(rules []checks.RuleInfo) string {
	var b strings.Builder
	count := map[string]int{}
	for _, r := range rules {
		count[r.Source]++
	}
	b.WriteString(docHead)
	fmt.Fprintf(&b, "\n## Rules\n\n%d rules: %d from gitleaks v8.30.1's default configuration (loaded from the gitleaks module), %d of escapegate's own. Org policy rules are added to these at run time.\n\n",
		len(rules), count[SourceGitleaks], count[SourceEscapegate])
	b.WriteString("| id | severity | source | description |\n| --- | --- | --- | --- |\n")
	for _, r := range rules {
		d := strings.ReplaceAll(strings.TrimSpace(r.Description), "|", `\|`)
		d = strings.ReplaceAll(d, "\n", " ")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, r.Severity, r.Source, d)
	}
	return b.String()
}

const docHead = `# Secret rules

<!-- Generated from checks/secrets (RulesDoc); do not edit by hand. Regenerate with
     ESCAPEGATE_UPDATE_DOCS=1 go test ./checks/secrets -run TestRulesDocIsCurrent -->

escapegate's secret detector (` + "`checks/secrets`" + `) runs gitleaks v8's default rules, loaded from the
gitleaks module itself (never a copy), plus escapegate's own rules (` + "`checks/secrets/escapegate.toml`" + `,
gitleaks' TOML format) and the org policy's ` + "`secrets.rules_file`" + ` (gitleaks' TOML format). ` + "`escapegate rules`" + ` prints
the same table.

## What is scanned

- Only lines a change **adds**, with their file path (some rules only apply to some paths: ` + "`*.tf`" + `, ` + "`*.php`" + `, ` + "`*.yaml`" + `).
- One Aho-Corasick pass over every rule's keywords (case-insensitive) marks candidate lines; a rule's
  regex runs only on its candidate lines plus as many neighbouring added lines as its pattern can span
  (worked out from the pattern: 0 or 1 for most rules; 6 for curl commands with continuation lines; 120
  for Kubernetes Secret manifests; 400 for private-key blocks). A keyword further away than that from the
  value does not make gitleaks' rule fire here, although gitleaks (which looks for the keyword anywhere in
  the file) would.
- Multi-line secrets (private key blocks) are found only across consecutive added line numbers: a key
  block interrupted by an unchanged or removed line is not one added secret.
- ` + "`$`" + ` and ` + "`^`" + ` in rule patterns also match at line ends and starts, so a value at the end of a line is found
  as it is on its own (gitleaks' ` + "`sidekiq-sensitive-url`" + ` misses it there).
- gitleaks' semantics are kept: secret group (or the first non-empty group), Shannon entropy threshold,
  global and per-rule allowlists (regexes on the secret, the match or the line; stopwords; paths;
  ` + "`condition = \"AND\"`" + `); commit allowlists never match because a diff scan has no commit.
- Bounds: a line longer than 64 KiB is scanned whole in 64 KiB windows overlapping by 4 KiB (a secret
  anywhere on it is found once, on its line); a run of consecutive added lines is scanned in blocks
  of about 4 MiB. A changed file GitHub sends no diff for (too large, binary) is read whole at the head
  commit (up to 10 MiB) and scanned as added lines; a secret its base already had is listed as existing.
  Binary files are told by content: private key containers (PKCS #12, Java keystores, SSH key files,
  DER private keys) are findings of the scan step's own rule ` + "`key-container`" + ` (critical); media
  are not scanned. Decoding of base64/hex/percent-encoded text (gitleaks' ` + "`--max-decode-depth`" + `) is not done.
- Never reported, whatever the rule: values containing ` + "`EXAMPLE`" + ` or ` + "`example`" + ` (documented examples such as
  ` + "`AKIAIOSFODNN7EXAMPLE`" + `), and files that are dependency lock files (gitleaks' global allowlist plus
  ` + "`Cargo.lock`" + `, ` + "`composer.lock`" + `, ` + "`Gemfile.lock`" + `, ` + "`flake.lock`" + ` and others). For heuristic rules (generic-api-key,
  password assignment, JWT, curl headers): placeholders (` + "`<your-key>`" + `, ` + "`changeme`" + `, ` + "`xxxxx`" + `, ` + "`${VAR}`" + `, ` + "`{{ }}`" + `),
  and integrity hashes (` + "`sha512-…`" + `, ` + "`h1:…`" + `). For generic-api-key and the password rule, UUIDs and hex digests
  unless the match names a credential (` + "`secret`" + `, ` + "`token`" + `, ` + "`password`" + `, ` + "`api_key`" + `, ...).

How the engine reaches these answers fast, and why each of its shortcuts changes none of them:
[secret-engine.md](secret-engine.md).

## De-duplication

When two rules find overlapping values on the same line, one finding is kept: the more specific rule
(a service's own token format over a token shape such as JWT or a curl header, over a keyword-and-entropy
heuristic such as generic-api-key), then the longer value, then the lower rule id. gitleaks reports both.

## Severity policy

- **critical**: live credentials of real services — cloud keys, VCS tokens, payment live keys, private
  keys, database connection strings with passwords, and every gitleaks rule not listed below. A rule of
  org policy is critical unless it carries a tag ` + "`severity:high`" + ` (or medium, low).
- **high**: heuristics that are often but not always a credential: generic-api-key, hard-coded
  password assignments, JWTs, curl Authorization headers and ` + "`-u user:pass`" + `, Kubernetes Secret manifest
  values, Sidekiq URLs.
- **medium**: identifiers that are half of a credential pair (client ids, access ids) and test-mode
  secret keys (Stripe ` + "`sk_test_`" + `/` + "`rk_test_`" + ` values of the stripe-access-token rule, Flutterwave test keys).
- **low**: publishable or public keys (Flutterwave public key, Lob and Mailgun public keys, New Relic
  browser key) and EasyPost test tokens.

The check fails at the policy's ` + "`fail_on`" + ` (default high); the escape rate counts ` + "`escape_rate.severity`" + ` (default critical).

## Inline suppressions

A line carrying ` + "`gitleaks:allow`" + ` or ` + "`escapegate:allow`" + ` marks its findings **suppressed**; the detector never
drops them. What a suppression does is policy (DESIGN §4):
- a suppression that a pull request **adds** does not silence a critical finding unless the org policy sets
  ` + "`secrets.allow_inline_suppressions: true`" + `;
- a suppression that was **already on the base branch** does: the detector marks a suppressed line whose
  text (ignoring leading and trailing blanks) is among the same file's removed lines as suppressed on base.

## Fingerprints

A finding's identity is HMAC-SHA256 under the server's key of repository, rule id and the normalized
value (quotes and indentation stripped): it stays the same across pushes, rebases, moved lines and renamed
files, and the value itself is never stored, logged or posted (display form: the format's documented prefix
from the rule's regex, none for passwords and generic values, an ellipsis and the length as a range:
` + "`ghp_… (32–63 chars)`" + `; see docs/security.md).

## escapegate's own rules

- ` + "`escapegate-connection-string`" + `: ` + "`scheme[+driver]://user:password@host`" + ` for PostgreSQL, MySQL/MariaDB, MongoDB, Redis
  and Valkey, AMQP, SQL Server, Oracle, DB2, CockroachDB, ClickHouse, CouchDB, Neo4j, Cassandra, NATS, Kafka, MQTT,
  InfluxDB, Elasticsearch/OpenSearch, Snowflake, Redshift and others, with SQLAlchemy drivers
  (` + "`postgresql+psycopg2://`" + `) and an empty user (` + "`redis://:password@host`" + `); the password is the secret;
  placeholders and ` + "`${VAR}`" + ` do not fire. gitleaks has no rule for these.
- ` + "`escapegate-connection-string-password-param`" + `: JDBC/ODBC/ADO.NET strings with ` + "`password=`" + ` or ` + "`pwd=`" + `.
- ` + "`escapegate-url-credentials`" + ` (high): ` + "`https://user:password@host`" + ` (the user may be empty) and the same for
  FTP, SFTP, LDAP, SMTP, IMAP, POP3, WebSocket, SOCKS proxies, SMB, RTSP, WebDAV, rsync, git, svn and ssh URLs.
- ` + "`escapegate-password-assignment`" + `: ` + "`password = \"...\"`" + ` with a value of entropy above 3.5 that may hold symbols
  (generic-api-key's value class ` + "`[\\w.=-]`" + ` stops at ` + "`$`" + `, ` + "`!`" + `, ` + "`#`" + `), under any name holding password,
  passwd, passphrase or pwd, or pass, pw, pswd as a part of it (` + "`DB_PASS`" + `, ` + "`redis.pw`" + `, ` + "`dbPass`" + `), with any blanks
  around the operator (` + "`terraform fmt`" + ` alignment).
- ` + "`escapegate-secret-assignment`" + ` (high): the same for secret, token, API key, access/private/signing/
  encryption/master/client/session key, credential(s) and salt names (` + "`SECRET_KEY`" + `, ` + "`JWT_SECRET`" + `, ` + "`api_token`" + `),
  with a value of 20 or more characters holding a symbol (values without one are generic-api-key's).
- Both assignment rules report values, not references to them: a path (` + "`/run/secrets/db`" + `, ` + "`./pw.txt`" + `), a
  ` + "`*_FILE`" + `/` + "`password_file`" + `/` + "`*_path`" + `/` + "`*_name`" + ` style key, a template (` + "`{{ .Values.x }}`" + `, ` + "`.Values.auth.rootPassword`" + `),
  a variable or environment lookup (` + "`${DB_PASSWORD}`" + `, ` + "`$(cat ...)`" + `, ` + "`os.environ[...]`" + `, ` + "`process.env.X`" + `, ` + "`var.x`" + `), a
  secret-store reference (` + "`arn:`" + `, ` + "`vault:`" + `), a URL, and placeholders do not fire.
- For every keyword heuristic (these two, generic-api-key, kubernetes-secret-yaml): a base64 value that decodes
  to an address or a single name under a key that names no credential (` + "`apiAddress`" + `, ` + "`username`" + `), and a value
  made only of ascending runs (` + "`123456abcdefg`" + `), and values of anti-forgery or pagination token names
  (` + "`csrf-token`" + `, ` + "`NextToken`" + `, ` + "`nextPageToken`" + `) are not reported.
- Self-identifying credential formats that gitleaks has no rule for, or finds only with the service's name
  nearby, or with other lengths or alphabets (` + "`escapegate-<family>`" + `, all in the table below): Azure storage,
  Service Bus and SAS keys; Groq, xAI, Replicate, OpenRouter, LangSmith, Pinecone and newer OpenAI keys;
  Doppler, Supabase, Netlify, Docker Hub, Figma, PostHog, Buildkite, CircleCI, Contentful, Cloudflare,
  Tailscale, Bitbucket, ClickUp, SonarQube, Atlassian, Pulumi, RubyGems, Mailchimp, Mailgun, New Relic and
  Telegram tokens; Google OAuth client secrets, refresh and access tokens; Square, webhook-signing, Braintree,
  Mapbox, Cloudinary and Discord-webhook secrets; base64-encoded PEM private keys, ` + "`.npmrc`" + `/` + "`.yarnrc.yml`" + `
  tokens, Docker ` + "`config.json`" + ` auths, ` + "`.netrc`" + ` passwords and AWS secret access keys under their usual names.
  The OpenAI, Pulumi, RubyGems and SendGrid rules leave the exact shapes gitleaks reports to gitleaks.
- ` + "`escapegate-escaped-quote-token`" + `: a known token format followed by ` + "`\\\"`" + ` (a string inside a notebook cell or
  JSON inside a string), where several gitleaks rules stop short.
`
