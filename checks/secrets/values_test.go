package secrets

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

// Tests of the value-shaped checks (values.go) and of the assignment and URL rules
// on realistic leak shapes. Every value is made up at run time from seeded random
// characters, so no line of this file is a credential.

// leakValues are the made-up values a shape's %s stands for.
type leakValues struct {
	pw     string // a password with symbols (no @ or /, so it also fits a URL)
	plain  string // a password of letters and digits only
	sym    string // a 32-character secret with symbols
	django string // a Django-style secret key
	tok    string // a 40-character token of letters and digits
	aws    string // a 40-character AWS-style secret access key
	b64pw  string // base64 of pw, as in a Secret's data
	pemKey string // a PEM private key block, lines joined by \n
}

func newLeakValues() leakValues {
	p := newPieces()
	pw := p.s(1, alnum) + p.s(19, alnum+"!*~-_#%^&+?")
	body := p.s(64, b64) + "\n" + p.s(64, b64) + "\n" + p.s(64, b64) + "\n" + p.s(40, b64) + "=="
	return leakValues{
		pw:     pw,
		plain:  p.s(18, alnum),
		sym:    p.s(1, alnum) + p.s(31, alnum+"!#%&*+?@^~"),
		django: "django-insecure-" + p.s(50, lowerAN+"!@#%^&*(-_=+)"),
		tok:    p.s(40, alnum),
		aws:    p.s(40, b64),
		b64pw:  base64.StdEncoding.EncodeToString([]byte(pw)),
		pemKey: "-----BEGIN " + "PRIVATE KEY-----\n" + body + "\n-----END " + "PRIVATE KEY-----",
	}
}

// leakShape is a file holding a leaked value: text is built from the values, line is
// the 1-based line that holds the secret.
type leakShape struct {
	name, path string
	text       func(v leakValues) string
	line       int
}

func one(f string, pick func(v leakValues) string) func(v leakValues) string {
	return func(v leakValues) string { return fmt.Sprintf(f, pick(v)) }
}

var (
	pw     = func(v leakValues) string { return v.pw }
	plain  = func(v leakValues) string { return v.plain }
	sym    = func(v leakValues) string { return v.sym }
	django = func(v leakValues) string { return v.django }
	tok    = func(v leakValues) string { return v.tok }
)

var leakShapes = []leakShape{
	// .env files
	{"env password", ".env", one("APP_ENV=production\nDB_PASSWORD=%s\n", pw), 2},
	{"env short pass name", ".env", one("DB_HOST=db\nDB_PASS=%s\n", pw), 2},
	{"env django secret key", ".env", one("DEBUG=0\nSECRET_KEY='%s'\n", django), 2},
	{"env jwt secret", ".env", one("JWT_SECRET=%s\nJWT_TTL=3600\n", sym), 1},
	{"env api token django-style", ".env", one("api_token=\"%s\"\n", django), 1},
	{"env redis url empty user", ".env", one("REDIS_URL=redis://:%s@cache.internal:6379/0\n", pw), 1},
	{"env sqlalchemy url", ".env", one("DATABASE_URL=postgresql+psycopg2://app:%s@db.internal:5432/app\n", pw), 1},
	{"env aws secret key", ".env", func(v leakValues) string {
		return "AWS_ACCESS_KEY_ID=AKIA" + "Z7QW3RT5YU6IO2PL\nexport AWS_SECRET_ACCESS_KEY=" + v.aws + "\n"
	}, 2},
	{"env pgpassword", "scripts/restore.sh", one("#!/bin/sh\nPGPASSWORD='%s' psql -h db -U app app < dump.sql\n", pw), 2},
	// compose files
	{"compose environment map", "compose.yaml", one("services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: %s\n", pw), 5},
	{"compose environment list", "docker-compose.yml", one("services:\n  db:\n    environment:\n      - MYSQL_ROOT_PASSWORD=%s\n", pw), 4},
	{"compose amqps url", "compose.yaml", one("services:\n  worker:\n    environment:\n      BROKER_URL: amqps://worker:%s@mq.internal:5671/\n", pw), 4},
	{"compose mongodb+srv url", "compose.yaml", one("services:\n  api:\n    environment:\n      MONGO_URL: \"mongodb+srv://api:%s@cluster0.db.internal/app\"\n", pw), 4},
	// Kubernetes Secrets
	{"k8s stringData password", "k8s/db-secret.yaml", one("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: \"%s\"\n", pw), 6},
	{"k8s stringData client secret", "k8s/oauth.yaml", one("apiVersion: v1\nkind: Secret\nmetadata:\n  name: oauth\nstringData:\n  client-secret: %s\n", sym), 6},
	{"k8s data base64 password", "k8s/secret.yaml", func(v leakValues) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  DB_PASSWORD: " + v.b64pw + "\n"
	}, 7},
	// Terraform variables, aligned by terraform fmt
	{"tfvars aligned password", "prod.tfvars", one("instance_class       = \"db.t3.micro\"\ndb_password          = \"%s\"\n", pw), 2},
	{"tfvars aligned client secret", "terraform.tfvars", one("client_id            = \"app\"\nclient_secret        = \"%s\"\n", sym), 2},
	{"tfvars aligned api token", "terraform.tfvars", one("api_token            = \"%s\"\n", django), 1},
	{"tf wide blanks both sides", "main.tf", one("resource \"db\" \"main\" {\n  master_password    =    \"%s\"\n}\n", pw), 2},
	{"tfvars aligned short name", "prod.tfvars", one("db_user      = \"app\"\ndb_pass      = \"%s\"\n", pw), 2},
	// notebooks (JSON strings with escaped quotes)
	{"notebook password", "analysis.ipynb", one("{\n \"cells\": [\n  {\n   \"source\": [\n    \"password = \\\"%s\\\"\\n\",\n    \"conn = connect(password=password)\"\n   ]\n  }\n ]\n}\n", pw), 5},
	{"notebook secret key", "train.ipynb", one("{\n \"cells\": [{\"source\": [\n    \"SECRET_KEY = \\\"%s\\\"\\n\"\n ]}]\n}\n", sym), 3},
	{"notebook json string key", "config.ipynb", one("{\n \"cells\": [{\"source\": [\n    \"cfg = {\\\"api_token\\\": \\\"%s\\\"}\\n\"\n ]}]\n}\n", sym), 3},
	{"notebook json password key", "setup.ipynb", one("{\n \"cells\": [{\"source\": [\n    \"db = {\\\"password\\\": \\\"%s\\\"}\\n\"\n ]}]\n}\n", pw), 3},
	{"notebook connection url", "eda.ipynb", one("{\n \"cells\": [{\"source\": [\n    \"engine = create_engine(\\\"mysql+pymysql://root:%s@10.0.0.7/shop\\\")\\n\"\n ]}]\n}\n", pw), 3},
	// CI YAML
	{"ci env password", ".github/workflows/deploy.yml", one("jobs:\n  deploy:\n    env:\n      DOCKER_PASSWORD: %s\n    steps:\n      - run: make push\n", pw), 4},
	{"ci curl basic auth", ".gitlab-ci.yml", one("deploy:\n  script:\n    - curl -u 'admin:%s' https://nexus.internal/repository/\n", pw), 3},
	{"ci curl bearer", ".github/workflows/notify.yml", one("jobs:\n  notify:\n    steps:\n      - run: curl -H \"Authorization: Bearer %s\" https://api.internal/v1/notify\n", tok), 4},
	{"ci service token", ".circleci/config.yml", one("jobs:\n  build:\n    environment:\n      SONAR_TOKEN: %s\n", sym), 4},
	// connection URLs
	{"mysql url", "config/database.yml", one("production:\n  url: mysql://root:%s@127.0.0.1:3306/app\n", pw), 2},
	{"mssql url", "appsettings.yaml", one("db: mssql://sa:%s@sql.internal:1433/app\n", pw), 1},
	{"ldap url", "config/ldap.yaml", one("url: ldap://admin:%s@ldap.internal:389\n", pw), 1},
	{"ftp url", "deploy.cfg", one("target = ftp://deploy:%s@ftp.internal/site\n", pw), 1},
	{"smtp url empty user", "config/mail.yaml", one("smtp: smtp://:%s@smtp.internal:587\n", pw), 1},
	{"rediss url", "config/cache.yaml", one("url: rediss://default:%s@redis.internal:6380\n", pw), 1},
	{"https url token", "scripts/clone.sh", one("git clone https://ci-bot:%s@git.internal/org/repo.git\n", tok), 1},
	{"socks5 proxy url", ".env", one("ALL_PROXY=socks5://proxy:%s@proxy.internal:1080\n", pw), 1},
	{"jdbc password parameter", "app.properties", one("db.url=jdbc:postgresql://db:5432/app?user=app&password=%s\n", plain), 1},
	// application code and config
	{"django settings", "project/settings.py", one("DEBUG = False\nSECRET_KEY = \"%s\"\n", django), 2},
	{"flask secret key", "app/__init__.py", one("app = Flask(__name__)\napp.secret_key = '%s'\n", sym), 2},
	{"js camel jwt secret", "src/auth.js", one("const jwtSecret = '%s';\n", sym), 1},
	{"go struct password", "internal/db/db.go", one("package db\n\nvar cfg = Config{\n\tPassword: \"%s\",\n}\n", pw), 4},
	{"spring properties", "src/main/resources/application.properties", one("spring.datasource.username=app\nspring.datasource.password=%s\n", pw), 2},
	{"json client secret", "config/oauth.json", one("{\n  \"client_id\": \"app\",\n  \"client_secret\": \"%s\"\n}\n", sym), 3},
	{"yaml auth token", "config/app.yaml", one("service:\n  auth_token: \"%s\"\n", django), 2},
	{"helm values camel password", "values.yaml", one("auth:\n  rootPassword: \"%s\"\n", pw), 2},
	{"ansible become pass", "group_vars/all.yml", one("ansible_user: deploy\nansible_become_pass: %s\n", pw), 2},
	{"yaml encryption key", "config/app.yaml", one("encryption_key: \"%s\"\n", sym), 1},
	{"toml webhook secret", "config.toml", one("[hooks]\nwebhook_secret = \"%s\"\n", sym), 2},
	{"npmrc auth token", ".npmrc", one("//registry.internal/:_authToken=%s\n", tok), 1},
	// keys
	{"pem private key", "deploy/key.pem", func(v leakValues) string { return v.pemKey + "\n" }, 1},
	{"service account json", "sa.json", func(v leakValues) string {
		return "{\n  \"type\": \"service_account\",\n  \"private_key\": \"" + strings.ReplaceAll(v.pemKey, "\n", "\\n") + "\\n\"\n}\n"
	}, 3},
}

// TestRealisticLeakShapes: the made-up values in the files a leak is found in. A shape
// counts as found when any rule reports its line; recall must stay at or above 0.97.
func TestRealisticLeakShapes(t *testing.T) {
	e := mustEngine(t, Options{})
	v := newLeakValues()
	found := 0
	for _, s := range leakShapes {
		fs := e.ScanFile(testFP, "org/repo", s.path, linesOf(s.text(v), 1), nil)
		hit := false
		for _, f := range fs {
			if f.Line == s.line {
				hit = true
			}
		}
		if hit {
			found++
		} else {
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%s@%d", f.Rule, f.Line))
			}
			t.Logf("missed %q (%s) line %d; findings %v", s.name, s.path, s.line, got)
		}
	}
	recall := float64(found) / float64(len(leakShapes))
	t.Logf("realistic leak shapes: %d/%d found, recall %.3f", found, len(leakShapes), recall)
	if len(leakShapes) < 40 {
		t.Errorf("only %d shapes; the table must hold at least 40", len(leakShapes))
	}
	if recall < 0.97 {
		t.Errorf("recall %.3f on realistic leak shapes is below 0.97", recall)
	}
}

// referenceLines are lines that name where a credential is, not the credential: no
// rule may report them.
var referenceLines = []struct{ name, path, text string }{
	{"docker secret file env", "compose.yaml", "    environment:\n      - MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db-root-password\n"},
	{"password set to a secret path", "compose.yaml", "    environment:\n      - DATABASE_PASSWORD=/run/secrets/db-password\n"},
	{"password_file argument", "app/db.py", "conn = Database(password_file='/run/secrets/db-password')\n"},
	{"relative path", "config.yaml", "password: ./secrets/postgres-password.txt\n"},
	{"home path", "config.yaml", "token: ~/.config/service/api-token.json\n"},
	{"secret key file env", ".env", "SECRET_KEY_FILE=/run/secrets/django-key\n"},
	{"password path key", "config.yaml", "password_path: etc/app/db-password-v2\n"},
	{"pgpassfile", ".env", "PGPASSFILE=~/.pgpass\n"},
	{"helm template variable", "templates/secret.yaml", "{{- $rootPassword := .Values.auth.rootPassword }}\n"},
	{"helm template value", "templates/secret.yaml", "  password: {{ .Values.auth.password | b64enc | quote }}\n"},
	{"helm quoted template", "templates/deploy.yaml", "  password: \"{{ .Values.db.password }}\"\n"},
	{"shell variable", ".env", "DB_PASSWORD=${DB_PASSWORD}\n"},
	{"command substitution", "run.sh", "DB_PASSWORD=\"$(cat /run/secrets/db_password)\"\n"},
	{"python environ index", "app.py", "password = os.environ[\"DB_PASSWORD\"]\n"},
	{"python environ get", "app.py", "password = os.environ.get(\"DB_PASSWORD\")\n"},
	{"node process env", "db.js", "const password = process.env.DB_PASSWORD;\n"},
	{"terraform variable", "main.tf", "  password             = var.db_password\n"},
	{"terraform resource attribute", "main.tf", "  master_password      = random_password.master.result\n"},
	{"terraform data lookup", "main.tf", "  client_secret        = data.vault_generic_secret.app.data[\"client_secret\"]\n"},
	{"django env helper", "settings.py", "SECRET_KEY = env(\"DJANGO_SECRET_KEY\")\n"},
	{"settings member", "views.py", "secret_key = settings.SECRET_KEY\n"},
	{"actions secret", ".github/workflows/ci.yml", "    env:\n      JWT_SECRET: ${{ secrets.JWT_SECRET }}\n"},
	{"ansible lookup", "vars.yml", "api_token: \"{{ lookup('env', 'API_TOKEN') }}\"\n"},
	{"ansible vault tag", "vars.yml", "db_password: !vault |\n"},
	{"secret arn", "main.tf", "  secret_arn = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-Ab1Cd2\"\n"},
	{"commented secret arn", "utils.py", "# full ARN: arn:aws:secretsmanager:eu-west-2:123456789012:secret:app-db-Ab1Cd2\n"},
	{"token endpoint url", "oauth.py", "token_url = \"https://auth.internal/oauth/token\"\n"},
	{"placeholder", ".env.sample", "DB_PASSWORD=<your-password-here>\n"},
	{"redis url with variable", ".env", "REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379/0\n"},
	{"git url with variable", "clone.sh", "git clone https://ci:$CI_TOKEN@git.internal/org/repo.git\n"},
	{"commented url placeholder", "daemonset.yaml", "#  value: \"k8s_uri: https://myacct:mypass@localhost:4430\"\n"},
	{"commented ascending placeholder", "inventory.ini", "#api_token = 123456abcdefg\n"},
	{"kubectl token name", "README.md", "$ kubectl --server=https://127.0.0.1:6443 --token=team/read-only-users get pods\n"},
	{"secret name", "deploy.yaml", "      secretName: app-db-credentials\n"},
	{"test output", "run.log", "--- PASS: TestParse/ipv4-in-ipv6+zone (0.00s)\n"},
	{"pagination token", "examples/list.json", "{\n  \"NextToken\": \"" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("page-cursor-7f3a", 3))) + "\"\n}\n"},
	{"token arithmetic", "build.go", "\ttokens = 2*maxCompilerConcurrency + minTokens*parallel\n"},
	{"tokenizer name", "train.yaml", "tokenizer_name: \"bert-base-uncased\"\n"},
	{"csrf token", "page.html", "csrf-token=" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("session-nonce-", 5))) + "\n"},
	{"secret data address", "k8s/storage-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: storage\ndata:\n  apiAddress: " +
		base64.StdEncoding.EncodeToString([]byte("tcp://10.0.0.5:5705")) + "\n"},
	{"secret data user name", "k8s/chap-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: chap\ndata:\n  node.session.auth.username: " +
		base64.StdEncoding.EncodeToString([]byte("initiator")) + "\n"},
	{"secret data account name", "k8s/azure-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: azure\ntype: Opaque\ndata:\n  storageaccountname: " +
		base64.StdEncoding.EncodeToString([]byte("k8sdemostore")) + "\n"},
}

func TestReferencesAreNotValues(t *testing.T) {
	e := mustEngine(t, Options{})
	for _, c := range referenceLines {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range e.scan(testFP, "org/repo", c.path, linesOf(c.text, 1), nil, false) {
				t.Errorf("%s reported at line %d: %s", f.Rule, f.Line, checks.Redact(c.text))
			}
		})
	}
}

func TestReferenceNotValue(t *testing.T) {
	pwRule := &rule{id: "escapegate-password-assignment"}
	secRule := &rule{id: "escapegate-secret-assignment"}
	cases := []struct {
		r             *rule
		secret, match string
		want          bool
	}{
		{pwRule, "/run/secrets/db-password", "PASSWORD=/run/secrets/db-password", true},
		{pwRule, "./pw.txt", "password: ./pw.txt", true},
		{pwRule, `C:\secrets\pw.txt`, `password = C:\secrets\pw.txt`, true},
		{pwRule, ".Values.auth.rootPassword", "$rootPassword := .Values.auth.rootPassword", true},
		{pwRule, "${DB_PASSWORD}", "DB_PASSWORD=${DB_PASSWORD}", true},
		{pwRule, "process.env.DB_PASSWORD", "password: process.env.DB_PASSWORD", true},
		{pwRule, "Zq8!vT3#kL9m", "MYSQL_PASSWORD_FILE=Zq8!vT3#kL9m", true},
		{pwRule, "Zq8!vT3#kL9m", "passwordFile: Zq8!vT3#kL9m", true},
		{pwRule, "Zq8!vT3#kL9m", "password_path = Zq8!vT3#kL9m", true},
		{pwRule, "https://vault.internal/v1/db", "password_source: https://vault.internal/v1/db", true},
		{pwRule, "Zq8!vT3#kL9m", "DB_PASSWORD=Zq8!vT3#kL9m", false},
		{pwRule, "Zq8!vT3#kL9m/x", "password: Zq8!vT3#kL9m/x", false},
		{pwRule, "Zq8!vT3#kL9m", `"rootPassword": Zq8!vT3#kL9m`, false},
		{secRule, "team/read-only-users", "--token=team/read-only-users", true},
		{secRule, "Zq8!vT3#kL9mWx2$pR7&", "SECRET_KEY=Zq8!vT3#kL9mWx2$pR7&", false},
		{secRule, "Zq8!vT3#kL9mWx2$pR7&", "csrf_token: Zq8!vT3#kL9mWx2$pR7&", true},
		{secRule, "Zq8+vT3/kL9mWx2+pR7w==", `"NextToken": "Zq8+vT3/kL9mWx2+pR7w=="`, true},
		{secRule, "Zq8+vT3/kL9mWx2+pR7w==", `"nextPageToken": "Zq8+vT3/kL9mWx2+pR7w=="`, true},
		{secRule, "2*maxCompilerConcurrency", "tokens = 2*maxCompilerConcurrency ", true},
		{secRule, "2*maxCompilerConcurrency", `tokens = "2*maxCompilerConcurrency"`, false},
		{secRule, "urn:svc:eu-west-1/123/default:Event:Motion", `"nextToken": "urn:svc:eu-west-1/123/default:Event:Motion"`, true},
		{secRule, "eu-west-2:123456789012:secret:app-db", "secretsmanager:eu-west-2:123456789012:secret:app-db", false},
		{secRule, "eu-west-2:123456789012:secret:app-db", "arn:aws:secretsmanager:eu-west-2:123456789012:secret:app-db", true},
	}
	for _, c := range cases {
		if got := referenceNotValue(c.r, c.secret, c.match); got != c.want {
			t.Errorf("referenceNotValue(%s, %q, %q) = %v, want %v", c.r.id, c.secret, c.match, got, c.want)
		}
	}
}

func TestAscendingRuns(t *testing.T) {
	for s, want := range map[string]bool{
		"123456abcdefg": true, "abcd1234": true, "0123456789": true, "abcdef": true,
		"123456abcdefh9": false, "abc12": false, "a1b2c3d4": false, "Zq8vT3kL9m": false, "123457": false,
	} {
		if got := ascendingRuns(s); got != want {
			t.Errorf("ascendingRuns(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestPlainBase64(t *testing.T) {
	b := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		secret, before string
		want           bool
	}{
		{b("tcp://127.0.0.1:5705"), "  apiAddress: ", true},
		{b("storage-admin"), "  apiUsername: ", true},
		{b("10.0.0.5:8443"), "  endpoint: ", true},
		{"apiAddress: " + b("tcp://10.1.2.3:5705"), "", true}, // kubernetes-secret-yaml's key: value secret
		{b("storage-admin"), "  password: ", false},           // a credential key: judged as a value
		{b("storage-admin"), "  accountkey: ", false},
		{b("Zq8!vT3#kL9mWx2$pR7&"), "  apiUsername: ", false}, // decodes to something that is not a name
		{b("tcp://127.0.0.1:5705"), "", false},                // no key
		{"not base64 at all!", "  user: ", false},
	}
	for _, c := range cases {
		if got := plainBase64(c.secret, c.before); got != c.want {
			t.Errorf("plainBase64(%q, %q) = %v, want %v", c.secret, c.before, got, c.want)
		}
	}
}
