// Package deploy_test checks the deployment files in deploy/ as far as possible
// without a Docker engine or a cluster: every YAML parses, the Kubernetes manifests
// carry what production needs, the compose file references files that exist, and
// the Dockerfile's build command really builds the binary.
package deploy_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/flywheel-metrics/flywheel/config"
)

const webPort = 9891 // cmd/flywheel's default --web.listen-address

// decodeAll parses every document of a YAML file into a generic value.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// get walks a decoded YAML value by map keys and list indexes ("0").
func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := -1
			for n := range x {
				if p == strconv.Itoa(n) {
					i = n
				}
			}
			if i < 0 {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestEveryYAMLParses(t *testing.T) {
	t.Parallel()
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		n++
		if docs := decodeAll(t, path); len(docs) == 0 {
			t.Errorf("%s: no YAML document", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Errorf("found only %d YAML files under deploy/", n)
	}
}

// kubeObjects loads every object the kustomization lists, by kind: its
// resources, and the ConfigMaps of its configMapGenerator as kustomize makes them
// (before the hash suffix is added to the name).
func kubeObjects(t *testing.T) map[string]map[string]any {
	t.Helper()
	k := decodeAll(t, "kubernetes/kustomization.yaml")[0]
	if get(k, "kind") != "Kustomization" {
		t.Fatalf("kustomization.yaml: kind %v", get(k, "kind"))
	}
	objs := map[string]map[string]any{}
	resources, _ := get(k, "resources").([]any)
	listed := slices.Clone(resources)
	for _, r := range resources {
		path := filepath.Join("kubernetes", r.(string))
		if _, err := os.Stat(path); err != nil {
			t.Errorf("kustomization lists %s: %v", r, err)
			continue
		}
		for _, doc := range decodeAll(t, path) {
			kind, _ := doc["kind"].(string)
			if kind == "" || get(doc, "apiVersion") == nil || get(doc, "metadata", "name") == nil {
				t.Errorf("%s: object without kind, apiVersion or metadata.name", path)
			}
			objs[kind] = doc
		}
	}
	gens, _ := get(k, "configMapGenerator").([]any)
	for _, g := range gens {
		data := map[string]any{}
		files, _ := get(g, "files").([]any)
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join("kubernetes", f.(string)))
			if err != nil {
				t.Errorf("configMapGenerator %v: %v", get(g, "name"), err)
				continue
			}
			data[filepath.Base(f.(string))] = string(b)
			listed = append(listed, f)
		}
		objs["ConfigMap"] = map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": get(g, "name")},
			"data":     data,
		}
	}
	// Every file in the folder is used, so none is silently left out; the
	// servicemonitor component is checked on its own.
	entries, _ := os.ReadDir("kubernetes")
	for _, e := range entries {
		if e.Name() != "kustomization.yaml" && e.Name() != componentDir && !slices.Contains(listed, any(e.Name())) {
			t.Errorf("kubernetes/%s is not listed in kustomization.yaml resources or configMapGenerator", e.Name())
		}
	}
	return objs
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	objs := kubeObjects(t)
	for _, kind := range []string{"StatefulSet", "Service", "ConfigMap"} {
		if objs[kind] == nil {
			t.Fatalf("no %s in the kustomization", kind)
		}
	}
	ss := objs["StatefulSet"]
	if get(ss, "apiVersion") != "apps/v1" {
		t.Errorf("StatefulSet apiVersion %v", get(ss, "apiVersion"))
	}
	if get(ss, "spec", "replicas") != 1 {
		t.Errorf("StatefulSet replicas = %v, want 1 (bbolt has one writer)", get(ss, "spec", "replicas"))
	}
	pod := get(ss, "spec", "template", "spec")
	c := get(pod, "containers", "0")
	checks := []struct {
		path []string
		want any
	}{
		{[]string{"livenessProbe", "httpGet", "path"}, "/-/healthy"},
		{[]string{"readinessProbe", "httpGet", "path"}, "/-/ready"},
		{[]string{"ports", "0", "containerPort"}, webPort},
		{[]string{"securityContext", "runAsNonRoot"}, true},
		{[]string{"securityContext", "readOnlyRootFilesystem"}, true},
		{[]string{"securityContext", "allowPrivilegeEscalation"}, false},
		{[]string{"securityContext", "capabilities", "drop", "0"}, "ALL"},
	}
	for _, ch := range checks {
		if got := get(c, ch.path...); got != ch.want {
			t.Errorf("container %s = %v, want %v", strings.Join(ch.path, "."), got, ch.want)
		}
	}
	if get(pod, "securityContext", "runAsNonRoot") != true || get(pod, "securityContext", "runAsUser") != 65532 {
		t.Errorf("pod securityContext must run as non-root user 65532: %v", get(pod, "securityContext"))
	}
	for _, r := range []string{"cpu", "memory"} {
		if get(c, "resources", "requests", r) == nil {
			t.Errorf("container has no %s request", r)
		}
	}
	if get(c, "resources", "limits", "memory") == nil {
		t.Error("container has no memory limit")
	}
	args, _ := get(c, "args").([]any)
	if !slices.Contains(args, any("serve")) || !slices.Contains(args, any("--storage.path=/data/flywheel.db")) {
		t.Errorf("container args %v: want serve with --storage.path=/data/flywheel.db", args)
	}

	// The data volume comes from a PVC template and is mounted at /data; tokens
	// come from a Secret; the config from the ConfigMap.
	if get(ss, "spec", "volumeClaimTemplates", "0", "metadata", "name") != "data" ||
		get(ss, "spec", "volumeClaimTemplates", "0", "spec", "resources", "requests", "storage") == nil {
		t.Errorf("StatefulSet needs a volumeClaimTemplate named data with a storage request")
	}
	mounts := map[string]string{}
	ms, _ := get(c, "volumeMounts").([]any)
	for _, m := range ms {
		mounts[get(m, "name").(string)] = get(m, "mountPath").(string)
	}
	if mounts["data"] != "/data" {
		t.Errorf("data volume mounted at %q, want /data", mounts["data"])
	}
	var secretName, configMapName, secretMount string
	vs, _ := get(pod, "volumes").([]any)
	for _, v := range vs {
		if s, ok := get(v, "secret", "secretName").(string); ok {
			secretName, secretMount = s, mounts[get(v, "name").(string)]
		}
		if s, ok := get(v, "configMap", "name").(string); ok {
			configMapName = s
		}
	}
	if secretName == "" || secretMount == "" {
		t.Fatal("no Secret volume mounted for the tokens")
	}
	cm := objs["ConfigMap"]
	if get(cm, "metadata", "name") != configMapName {
		t.Errorf("pod mounts ConfigMap %q, the kustomization has %v", configMapName, get(cm, "metadata", "name"))
	}
	cfg, _ := get(cm, "data", "flywheel.yml").(string)
	var parsed map[string]any
	if err := yaml.Unmarshal([]byte(cfg), &parsed); err != nil {
		t.Fatalf("ConfigMap flywheel.yml: %v", err)
	}
	// The shipped config passes the same validation as `flywheel check-config`.
	if _, err := config.Parse([]byte(cfg)); err != nil {
		t.Errorf("ConfigMap flywheel.yml does not validate:\n%v", err)
	}
	for _, section := range []string{"github", "pagerduty"} {
		tf, _ := get(parsed, section, "token_file").(string)
		if !strings.HasPrefix(tf, secretMount+"/") {
			t.Errorf("config %s.token_file = %q, want a file in the mounted Secret %s", section, tf, secretMount)
		}
		if get(parsed, section, "token") != nil {
			t.Errorf("config %s holds a token inline", section)
		}
	}
	if !slices.Contains(args, any("--config.file="+mounts["config"]+"/flywheel.yml")) {
		t.Errorf("container args %v do not point --config.file at the mounted ConfigMap", args)
	}

	svc := objs["Service"]
	if get(svc, "spec", "ports", "0", "port") != webPort || get(svc, "spec", "ports", "0", "name") != "http" {
		t.Errorf("Service port: %v", get(svc, "spec", "ports"))
	}
}

func TestComposeReferencesExistingFiles(t *testing.T) {
	t.Parallel()
	doc := decodeAll(t, "compose/docker-compose.yml")[0]
	for _, svc := range []string{"flywheel", "prometheus", "grafana"} {
		if get(doc, "services", svc) == nil {
			t.Fatalf("compose has no %s service", svc)
		}
	}
	ctx := filepath.Join("compose", get(doc, "services", "flywheel", "build", "context").(string))
	if _, err := os.Stat(filepath.Join(ctx, get(doc, "services", "flywheel", "build", "dockerfile").(string))); err != nil {
		t.Errorf("flywheel build: %v", err)
	}
	if cmd, _ := get(doc, "services", "flywheel", "command", "0").(string); cmd != "demo" {
		t.Errorf("flywheel service runs %q, want the demo", cmd)
	}
	services, _ := get(doc, "services").(map[string]any)
	mounted := map[string]bool{}
	for name, svc := range services {
		vols, _ := get(svc, "volumes").([]any)
		for _, v := range vols {
			src := strings.SplitN(v.(string), ":", 2)[0]
			if !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
				continue // a named volume
			}
			path := filepath.Join("compose", src)
			if _, err := os.Stat(path); err != nil {
				t.Errorf("compose service %s mounts %s: %v", name, src, err)
			}
			mounted[filepath.Clean(path)] = true
		}
	}
	for _, want := range []string{"prometheus/rules.yml", "grafana/dashboards", "compose/prometheus.yml"} {
		if !mounted[want] {
			t.Errorf("compose does not mount %s", want)
		}
	}

	prom := decodeAll(t, "compose/prometheus.yml")[0]
	if get(prom, "scrape_configs", "0", "static_configs", "0", "targets", "0") != "flywheel:9891" {
		t.Errorf("Prometheus scrapes %v, want flywheel:9891", get(prom, "scrape_configs"))
	}
	dsrc := decodeAll(t, "compose/grafana/provisioning/datasources/prometheus.yml")[0]
	if get(dsrc, "datasources", "0", "type") != "prometheus" || get(dsrc, "datasources", "0", "url") != "http://prometheus:9090" {
		t.Errorf("Grafana datasource: %v", get(dsrc, "datasources"))
	}
	prov := decodeAll(t, "compose/grafana/provisioning/dashboards/flywheel.yml")[0]
	if get(prov, "providers", "0", "options", "path") != "/var/lib/grafana/dashboards/flywheel" {
		t.Errorf("Grafana dashboard provider path: %v", get(prov, "providers"))
	}
}

// dockerStage is one stage of deploy/Dockerfile.
type dockerStage struct {
	from         string
	instructions []string // "RUN ...", "USER ...", continuation lines joined
}

func parseDockerfile(t *testing.T) []dockerStage {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []dockerStage
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, dockerStage{from: strings.TrimPrefix(line, "FROM ")})
			return
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %q before FROM", line)
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, line)
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

var buildRE = regexp.MustCompile(`^RUN (CGO_ENABLED=0 go build .* -o )(/out/flywheel)( \./cmd/flywheel)$`)

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	if len(stages) != 2 {
		t.Fatalf("Dockerfile has %d stages, want build and final", len(stages))
	}
	if !strings.HasPrefix(stages[0].from, "golang:1.26") {
		t.Errorf("build stage FROM %s, want golang:1.26", stages[0].from)
	}
	final := stages[1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("final stage FROM %s, want distroless/static or scratch", final.from)
	}
	want := []string{"USER 65532:65532", "VOLUME /data", "EXPOSE 9891"}
	for _, w := range want {
		if !slices.Contains(final.instructions, w) {
			t.Errorf("final stage lacks %q", w)
		}
	}
	if !slices.ContainsFunc(final.instructions, func(s string) bool {
		return strings.HasPrefix(s, "CMD ") && strings.Contains(s, `"--storage.path=/data/flywheel.db"`)
	}) {
		t.Error("final stage CMD does not put the store in /data")
	}
	if !slices.ContainsFunc(stages[0].instructions, buildRE.MatchString) {
		t.Errorf("build stage has no %s line", buildRE)
	}
	// The build arguments that stamp --version and flywheel_build_info.
	for _, arg := range []string{"ARG VERSION", "ARG REVISION", "ARG BUILD_DATE"} {
		if !slices.Contains(stages[0].instructions, arg) {
			t.Errorf("build stage lacks %q", arg)
		}
	}
}

// TestReleaseVersion: the VERSION file holds the release version, which the
// Dockerfile stamps into the binary by default, and the kustomization runs
// the image of that version: never a moving tag such as latest, because a
// newer Flywheel migrates the store, one way, when it opens it.
func TestReleaseVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) {
		t.Fatalf("VERSION %q is not MAJOR.MINOR.PATCH", version)
	}
	k := decodeAll(t, "kubernetes/kustomization.yaml")[0]
	images, _ := get(k, "images").([]any)
	if len(images) != 1 {
		t.Fatalf("kustomization images: %v", get(k, "images"))
	}
	img, _ := images[0].(map[string]any)
	if img["name"] != "flywheel" || img["newTag"] != version {
		t.Errorf("kustomization runs %v:%v, want the release version %s", img["newName"], img["newTag"], version)
	}
}

// TestDockerfileBuildCommand runs the build stage's go build line, as written,
// from the repository root (the image's WORKDIR /src holds `COPY . .`).
func TestDockerfileBuildCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole binary; skipped with -short")
	}
	var line string
	for _, in := range parseDockerfile(t)[0].instructions {
		if buildRE.MatchString(in) {
			line = in
		}
	}
	if line == "" {
		t.Fatal("no go build line in the Dockerfile")
	}
	out := filepath.Join(t.TempDir(), "flywheel")
	m := buildRE.FindStringSubmatch(line)
	shell := m[1] + out + m[3]
	cmd := exec.Command("sh", "-c", shell)
	cmd.Dir = ".."
	// as `docker build --build-arg REVISION=… --build-arg BUILD_DATE=…`
	// without VERSION: the VERSION file's
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "VERSION=") }),
		"REVISION=0123456789abcdef0123456789abcdef01234567", "BUILD_DATE=20261207-12:00:00")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", shell, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has a dynamic loader: not static, won't run on distroless/static")
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("binary has a symbol table: -ldflags=-s did not apply")
	}
	// --version says what was stamped.
	version, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	v, err := exec.Command(out, "--version").Output()
	if err != nil {
		t.Fatalf("flywheel --version: %v", err)
	}
	for _, want := range []string{
		"flywheel, version " + strings.TrimSpace(string(version)) + " (branch: unknown, revision: 0123456789abcdef0123456789abcdef01234567)\n",
		"  build date:       20261207-12:00:00\n",
	} {
		if !bytes.Contains(v, []byte(want)) {
			t.Errorf("flywheel --version lacks %q:\n%s", want, v)
		}
	}
	// The image exposes 9891; the binary's default listen address must agree.
	help, _ := exec.Command(out, "serve", "--help").CombinedOutput()
	if !bytes.Contains(help, []byte(":9891")) {
		t.Errorf("flywheel serve --help does not show the default port 9891:\n%s", help)
	}
}
