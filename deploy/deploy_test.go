// Package deploy_test checks the deployment files against the server they run: each
// file is parsed (YAML with a real parser, the systemd unit as its key=value sections),
// and its ports, probes, paths and store are compared with the server's defaults and
// with what a running escapegate answers.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/internal/demo"
)

// The paths the probes use, as the server serves them (TestProbesAnswer).
const (
	livePath  = "/healthz"
	readyPath = "/readyz"
)

// yamlDocs decodes every document of a YAML file into a generic tree.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// get walks a generic YAML tree by keys and list indexes ("0").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func num(v any, path ...string) int {
	n, _ := get(v, path...).(int)
	return n
}

// port is the port of a listen address.
func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return n
}

// defaultPort is the port of the server's default listen address.
func defaultPort(t *testing.T) int { return port(t, config.Default().Listen) }

// dockerfile returns the Dockerfile's ENV settings and EXPOSEd ports.
func dockerfile(t *testing.T) (env map[string]string, expose []int) {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	env = map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "ENV":
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "EXPOSE":
			for _, p := range f[1:] {
				n, err := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				if err != nil {
					t.Fatalf("EXPOSE %s: %v", p, err)
				}
				expose = append(expose, n)
			}
		}
	}
	return env, expose
}

func TestDockerfile(t *testing.T) {
	env, expose := dockerfile(t)
	p := port(t, env["ESCAPEGATE_LISTEN"])
	if p != defaultPort(t) || len(expose) != 1 || expose[0] != p {
		t.Fatalf("ESCAPEGATE_LISTEN %q, EXPOSE %v: want the server's port %d", env["ESCAPEGATE_LISTEN"], expose, defaultPort(t))
	}
}

// containerEnv maps a container's env entries by name (value, or "secret:NAME/KEY").
func containerEnv(c any) map[string]string {
	out := map[string]string{}
	list, _ := get(c, "env").([]any)
	for _, e := range list {
		name := str(e, "name")
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			out[name] = "secret:" + str(ref, "name") + "/" + str(ref, "key")
			continue
		}
		out[name] = str(e, "value")
	}
	return out
}

// kinds indexes documents by kind.
func kinds(t *testing.T, files ...string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			out[str(d, "kind")] = append(out[str(d, "kind")], d)
		}
	}
	return out
}

func TestKubernetesTwoReplicasOnPostgres(t *testing.T) {
	dir := "kubernetes"
	kust := yamlDocs(t, filepath.Join(dir, "kustomization.yml"))
	resources, _ := get(kust[0], "resources").([]any)
	var files []string
	for _, r := range resources {
		files = append(files, filepath.Join(dir, r.(string)))
	}
	docs := kinds(t, files...)
	for _, k := range []string{"Deployment", "Service", "PodDisruptionBudget", "ConfigMap"} {
		if len(docs[k]) != 1 {
			t.Fatalf("kustomization.yml: %d %s, want 1", len(docs[k]), k)
		}
	}
	dep := docs["Deployment"][0]
	if n := num(dep, "spec", "replicas"); n != 2 {
		t.Fatalf("replicas = %d, want 2", n)
	}
	if s := num(dep, "spec", "strategy", "rollingUpdate", "maxUnavailable"); str(dep, "spec", "strategy", "type") != "RollingUpdate" || s != 0 {
		t.Fatalf("strategy = %v, want a rolling update that keeps both replicas", get(dep, "spec", "strategy"))
	}
	c := get(dep, "spec", "template", "spec", "containers", "0")
	ports := map[string]int{}
	for _, p := range get(c, "ports").([]any) {
		ports[str(p, "name")] = num(p, "containerPort")
	}
	env := containerEnv(c)
	if p := port(t, env["ESCAPEGATE_LISTEN"]); p != ports["http"] || p != defaultPort(t) {
		t.Fatalf("ESCAPEGATE_LISTEN %q, containerPort %d: want both the server's port %d", env["ESCAPEGATE_LISTEN"], ports["http"], defaultPort(t))
	}
	for probe, path := range map[string]string{"livenessProbe": livePath, "readinessProbe": readyPath, "startupProbe": livePath} {
		if got := str(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path %q, want %q", probe, got, path)
		}
		if got := str(c, probe, "httpGet", "port"); ports[got] != defaultPort(t) {
			t.Errorf("%s port %q is not the container's http port", probe, got)
		}
	}
	if get(c, "resources", "requests", "cpu") == nil || get(c, "resources", "requests", "memory") == nil || get(c, "resources", "limits", "memory") == nil {
		t.Errorf("resources = %v, want cpu and memory requests and a memory limit", get(c, "resources"))
	}
	// The store and every credential come from Secrets, whose example holds each key.
	secrets := map[string]map[string]any{}
	for _, s := range kinds(t, filepath.Join(dir, "secrets.example.yml"))["Secret"] {
		data, _ := get(s, "stringData").(map[string]any)
		secrets[str(s, "metadata", "name")] = data
	}
	for _, name := range []string{"ESCAPEGATE_STORE", "ESCAPEGATE_FINGERPRINT_KEY", "ESCAPEGATE_GITHUB_APP_PRIVATE_KEY", "ESCAPEGATE_GITHUB_APP_WEBHOOK_SECRET", "ESCAPEGATE_GITHUB_APP_INTEGRATION_ID"} {
		ref, ok := strings.CutPrefix(env[name], "secret:")
		if !ok {
			t.Errorf("%s = %q, want a secretKeyRef", name, env[name])
			continue
		}
		sec, key, _ := strings.Cut(ref, "/")
		if _, ok := secrets[sec][key]; !ok {
			t.Errorf("%s refers to Secret %s key %s, which secrets.example.yml lacks", name, sec, key)
		}
	}
	if dsn, _ := secrets["escapegate-store"]["ESCAPEGATE_STORE"].(string); !strings.HasPrefix(dsn, "postgres://") {
		t.Errorf("the store secret's ESCAPEGATE_STORE %q is not a postgres:// URL", dsn)
	}
	// The config file the ConfigMap mounts parses as serve reads it.
	cm := docs["ConfigMap"][0]
	mount := get(dep, "spec", "template", "spec", "volumes", "0", "configMap", "name")
	args, _ := get(c, "args").([]any)
	if mount != str(cm, "metadata", "name") || len(args) != 2 || args[1] != "/etc/escapegate/config.yml" {
		t.Fatalf("config: volume %v, args %v", mount, args)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(cfgPath, []byte(str(cm, "data", "config.yml")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the ConfigMap's config.yml: %v", err)
	}
	if port(t, cfg.Listen) != defaultPort(t) {
		t.Errorf("the ConfigMap's listen %q", cfg.Listen)
	}
	// The PodDisruptionBudget keeps one of the two, selecting the Deployment's pods; the Service reaches them.
	pdb := docs["PodDisruptionBudget"][0]
	podLabels := get(dep, "spec", "template", "metadata", "labels").(map[string]any)
	if num(pdb, "spec", "minAvailable") != 1 || !selects(get(pdb, "spec", "selector", "matchLabels"), podLabels) {
		t.Errorf("PodDisruptionBudget spec = %v", get(pdb, "spec"))
	}
	svc := docs["Service"][0]
	if str(svc, "spec", "ports", "0", "targetPort") != "http" || !selects(get(svc, "spec", "selector"), podLabels) {
		t.Errorf("Service spec = %v", get(svc, "spec"))
	}
}

// selects reports whether every label of sel is on the pod.
func selects(sel any, pod map[string]any) bool {
	m, _ := sel.(map[string]any)
	if len(m) == 0 {
		return false
	}
	for k, v := range m {
		if pod[k] != v {
			return false
		}
	}
	return true
}

// TestKubernetesSingleReplica keeps the one-replica bbolt manifest consistent: a
// Recreate strategy (one process holds the file) and the server's port and probes.
func TestKubernetesSingleReplica(t *testing.T) {
	docs := kinds(t, "kubernetes.yml")
	dep := docs["Deployment"][0]
	if num(dep, "spec", "replicas") != 1 || str(dep, "spec", "strategy", "type") != "Recreate" {
		t.Fatalf("bbolt deployment: replicas %d, strategy %v", num(dep, "spec", "replicas"), get(dep, "spec", "strategy"))
	}
	c := get(dep, "spec", "template", "spec", "containers", "0")
	if num(c, "ports", "0", "containerPort") != defaultPort(t) || str(c, "livenessProbe", "httpGet", "path") != livePath || str(c, "readinessProbe", "httpGet", "path") != readyPath {
		t.Fatalf("bbolt deployment container = %v", c)
	}
}

func TestComposeWithPostgres(t *testing.T) {
	doc := yamlDocs(t, "compose.yml")[0]
	eg := get(doc, "services", "escapegate")
	env, _ := get(eg, "environment").(map[string]any)
	listen, _ := env["ESCAPEGATE_LISTEN"].(string)
	if port(t, listen) != defaultPort(t) {
		t.Fatalf("ESCAPEGATE_LISTEN %q", listen)
	}
	published := str(eg, "ports", "0")
	if i := strings.LastIndex(published, ":"); i < 0 || published[i+1:] != strconv.Itoa(defaultPort(t)) {
		t.Fatalf("ports %q: the container side must be the server's port %d", published, defaultPort(t))
	}
	if dsn, _ := env["ESCAPEGATE_STORE"].(string); !strings.HasPrefix(dsn, "postgres://") || !strings.Contains(dsn, "@postgres:5432/") {
		t.Fatalf("ESCAPEGATE_STORE %q, want the postgres service", dsn)
	}
	if fk, _ := env["ESCAPEGATE_FINGERPRINT_KEY"].(string); fk == "" {
		t.Fatal("PostgreSQL needs the fingerprint key from the environment")
	}
	if str(eg, "depends_on", "postgres", "condition") != "service_healthy" || get(doc, "services", "postgres", "healthcheck", "test") == nil {
		t.Fatal("escapegate must wait for a healthy PostgreSQL")
	}
	if str(eg, "build", "dockerfile") != "deploy/Dockerfile" || str(eg, "build", "context") != ".." {
		t.Fatalf("build = %v", get(eg, "build"))
	}
}

// unit parses a systemd unit: section → key → values (a key may repeat).
func unit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, n, line)
			}
			out[section][strings.TrimSpace(k)] = append(out[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unit(t, "escapegate.service")
	svc := u["Service"]
	exec := strings.Fields(strings.Join(svc["ExecStart"], " "))
	if len(exec) != 4 || !filepath.IsAbs(exec[0]) || exec[1] != "serve" || exec[2] != "--config" || !strings.HasPrefix(exec[3], "/etc/escapegate/") {
		t.Fatalf("ExecStart = %v", exec)
	}
	env := map[string]string{}
	for _, e := range svc["Environment"] {
		k, v, _ := strings.Cut(e, "=")
		env[k] = v
	}
	if port(t, env["ESCAPEGATE_LISTEN"]) != defaultPort(t) {
		t.Fatalf("ESCAPEGATE_LISTEN %q", env["ESCAPEGATE_LISTEN"])
	}
	store, ok := strings.CutPrefix(env["ESCAPEGATE_STORE"], "bolt:")
	state := "/var/lib/" + strings.Join(svc["StateDirectory"], "")
	if !ok || filepath.Dir(store) != state || !contains(svc["ReadWritePaths"], state) {
		t.Fatalf("store %q must be in the StateDirectory %s, writable", env["ESCAPEGATE_STORE"], state)
	}
	if svc["User"] == nil || contains(svc["User"], "root") || !contains(svc["Restart"], "on-failure") || !contains(u["Install"]["WantedBy"], "multi-user.target") {
		t.Fatalf("unit = %v", u)
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestProbesAnswer: the probe paths the files use are served by escapegate, and the
// readiness path says ready once its store is reachable.
func TestProbesAnswer(t *testing.T) {
	h, err := demo.NewHarness(context.Background(), demo.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, p := range []string{livePath, readyPath} {
		resp, err := http.Get(h.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if server.HookPath != "/api/github/hook" {
		t.Errorf("the webhook path is %s; README's deploy instructions name /api/github/hook", server.HookPath)
	}
}

// TestREADMEInstructions keeps README.md's deploy instructions naming each file and
// the commands that use it.
func TestREADMEInstructions(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, want := range []string{
		"deploy/escapegate.service", "systemctl enable --now escapegate",
		"deploy/compose.yml", "docker compose -f deploy/compose.yml",
		"deploy/kubernetes/", "kubectl apply -k deploy/kubernetes", "kubectl create secret generic escapegate-store", "kubectl create secret generic escapegate-github",
		"v3_api_url: https://HOST/api/v3/", livePath, readyPath, server.HookPath,
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}

// TestToolsAccept runs the tools an operator would, when this machine has them:
// systemd-analyze verify on the unit (its ExecStart pointed at a binary that exists
// here), and kubectl kustomize on the Kubernetes directory.
func TestToolsAccept(t *testing.T) {
	t.Run("systemd-analyze", func(t *testing.T) {
		tool, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed")
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile("escapegate.service")
		if err != nil {
			t.Fatal(err)
		}
		unitPath := filepath.Join(t.TempDir(), "escapegate.service")
		if err := os.WriteFile(unitPath, bytes.ReplaceAll(data, []byte("/usr/local/bin/escapegate"), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tool, "verify", unitPath).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
		if len(bytes.TrimSpace(out)) > 0 {
			t.Logf("systemd-analyze verify says:\n%s", out)
		}
	})
	t.Run("kubectl kustomize", func(t *testing.T) {
		tool, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed")
		}
		out, err := exec.Command(tool, "kustomize", "kubernetes").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl kustomize: %v\n%s", err, out)
		}
		for _, kind := range []string{"kind: Deployment", "kind: Service", "kind: PodDisruptionBudget", "kind: ConfigMap"} {
			if !bytes.Contains(out, []byte(kind)) {
				t.Errorf("kubectl kustomize has no %s", kind)
			}
		}
	})
}
