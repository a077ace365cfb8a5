package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// componentDir is the kustomize component, inside deploy/kubernetes, that adds
// the Prometheus Operator's ServiceMonitor.
const componentDir = "servicemonitor"

// TestKubernetesBaseAppliesWithoutCRDs: the base holds only kinds every cluster
// knows, so `kubectl apply -k deploy/kubernetes` works without the Prometheus
// Operator; the ServiceMonitor is in a component the base does not include.
func TestKubernetesBaseAppliesWithoutCRDs(t *testing.T) {
	t.Parallel()
	core := map[string]bool{"v1": true, "apps/v1": true}
	for kind, obj := range kubeObjects(t) {
		if v, _ := get(obj, "apiVersion").(string); !core[v] {
			t.Errorf("the base holds a %s of apiVersion %s: not every cluster has it", kind, v)
		}
	}
	k := decodeAll(t, "kubernetes/kustomization.yaml")[0]
	if c := get(k, "components"); c != nil {
		t.Errorf("the base includes components %v: the ServiceMonitor must be opt-in", c)
	}
	data, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("monitoring.coreos.com")) {
		t.Error("kustomization.yaml names monitoring.coreos.com")
	}
}

func TestServiceMonitorComponent(t *testing.T) {
	t.Parallel()
	k := decodeAll(t, filepath.Join("kubernetes", componentDir, "kustomization.yaml"))[0]
	if get(k, "kind") != "Component" || get(k, "apiVersion") != "kustomize.config.k8s.io/v1alpha1" {
		t.Fatalf("%s/kustomization.yaml is %v %v, want a kustomize Component", componentDir, get(k, "apiVersion"), get(k, "kind"))
	}
	resources, _ := get(k, "resources").([]any)
	var sm map[string]any
	for _, r := range resources {
		for _, doc := range decodeAll(t, filepath.Join("kubernetes", componentDir, r.(string))) {
			if doc["kind"] == "ServiceMonitor" {
				sm = doc
			}
		}
	}
	if sm == nil {
		t.Fatalf("the %s component holds no ServiceMonitor", componentDir)
	}
	if get(sm, "apiVersion") != "monitoring.coreos.com/v1" {
		t.Errorf("ServiceMonitor apiVersion %v", get(sm, "apiVersion"))
	}
	if get(sm, "spec", "endpoints", "0", "path") != "/metrics" || get(sm, "spec", "endpoints", "0", "port") != "http" {
		t.Errorf("ServiceMonitor endpoint: %v", get(sm, "spec", "endpoints"))
	}
	svc := kubeObjects(t)["Service"]
	if sel := get(sm, "spec", "selector", "matchLabels", "app.kubernetes.io/name"); sel == nil || sel != get(svc, "metadata", "labels", "app.kubernetes.io/name") {
		t.Errorf("ServiceMonitor selects %v, the Service is labelled %v", sel, get(svc, "metadata", "labels"))
	}
	if get(svc, "spec", "ports", "0", "name") != get(sm, "spec", "endpoints", "0", "port") {
		t.Errorf("ServiceMonitor port %v is not the Service's %v", get(sm, "spec", "endpoints", "0", "port"), get(svc, "spec", "ports"))
	}
}

// The StatefulSet mounts the generated ConfigMap by its generator name, which
// kustomize rewrites to the hashed name: a config edit changes the pod template.
func TestKubernetesConfigIsGenerated(t *testing.T) {
	t.Parallel()
	k := decodeAll(t, "kubernetes/kustomization.yaml")[0]
	name, _ := get(k, "configMapGenerator", "0", "name").(string)
	if name == "" {
		t.Fatal("kustomization.yaml has no configMapGenerator: a config edit would not roll the pod")
	}
	if get(k, "generatorOptions", "disableNameSuffixHash") == true {
		t.Error("generatorOptions.disableNameSuffixHash: without the hash a config edit does not roll the pod")
	}
	resources, _ := get(k, "resources").([]any)
	for _, r := range resources {
		for _, doc := range decodeAll(t, filepath.Join("kubernetes", r.(string))) {
			if doc["kind"] == "ConfigMap" {
				t.Errorf("%s holds a ConfigMap: its name has no content hash, so editing it does not roll the pod", r)
			}
		}
	}
	mounted := false
	vs, _ := get(kubeObjects(t)["StatefulSet"], "spec", "template", "spec", "volumes").([]any)
	for _, v := range vs {
		mounted = mounted || get(v, "configMap", "name") == name
	}
	if !mounted {
		t.Errorf("the StatefulSet mounts no ConfigMap named %q", name)
	}
}

// TestKubernetesMemory: GOMEMLIMIT is a soft limit below the container's memory
// limit, and the READMEs give the manifest's numbers.
func TestKubernetesMemory(t *testing.T) {
	t.Parallel()
	c := get(kubeObjects(t)["StatefulSet"], "spec", "template", "spec", "containers", "0")
	limitS, _ := get(c, "resources", "limits", "memory").(string)
	limit, err := kubeQuantity(limitS)
	if err != nil {
		t.Fatalf("limits.memory: %v", err)
	}
	var soft string
	envs, _ := get(c, "env").([]any)
	for _, e := range envs {
		if get(e, "name") == "GOMEMLIMIT" {
			soft, _ = get(e, "value").(string)
		}
	}
	if soft == "" {
		t.Fatalf("container env %v: no GOMEMLIMIT value", envs)
	}
	softB, err := goMemLimit(soft)
	if err != nil {
		t.Fatalf("GOMEMLIMIT: %v", err)
	}
	if ratio := float64(softB) / float64(limit); ratio < 0.75 || ratio > 0.9 {
		t.Errorf("GOMEMLIMIT %s is %.0f%% of limits.memory %s, want 75–90%%: a soft limit below the hard one", soft, 100*ratio, limitS)
	}
	if req, err := kubeQuantity(get(c, "resources", "requests", "memory").(string)); err != nil || req > limit {
		t.Errorf("requests.memory %v (%v) above the limit %s", get(c, "resources", "requests", "memory"), err, limitS)
	}
	human := fmt.Sprintf("%d MiB", limit>>20)
	if limit%(1<<30) == 0 {
		human = fmt.Sprintf("%d GiB", limit>>30)
	}
	for _, doc := range []string{"../README.md", "README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(b)), " ")
		for _, want := range []string{"GOMEMLIMIT=" + soft, human} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not give the manifest's %q", doc, want)
			}
		}
	}
}

var (
	kubeQuantityRE = regexp.MustCompile(`^([0-9]+)(Ki|Mi|Gi|Ti|k|M|G|T)?$`)
	goMemLimitRE   = regexp.MustCompile(`^([0-9]+)(B|KiB|MiB|GiB|TiB)?$`)
)

func kubeQuantity(s string) (int64, error) {
	m := kubeQuantityRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q: not a memory quantity", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	mult := map[string]int64{"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m[2]]
	return n * mult, nil
}

// goMemLimit parses the Go runtime's GOMEMLIMIT syntax (runtime/debug.SetMemoryLimit).
func goMemLimit(s string) (int64, error) {
	m := goMemLimitRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q: not a GOMEMLIMIT value", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	mult := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[m[2]]
	return n * mult, nil
}

// kustomize builds dir with kubectl's built-in kustomize and returns the objects.
func kustomize(t *testing.T, kubectl, dir string) []map[string]any {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, stderr.String())
	}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	var objs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", dir, err)
		}
		objs = append(objs, doc)
	}
}

func byKind(objs []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, o := range objs {
		m[o["kind"].(string)] = o
	}
	return m
}

// TestKustomizeBuild builds the base and an overlay as a user writes it (the
// component, a configuration of their own) with a real kustomize: the base has no
// ServiceMonitor, the overlay has one, and an edited configuration gives the
// ConfigMap, and so the pod template, a new name.
func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: the manifests are checked without kustomize above")
	}
	base := byKind(kustomize(t, kubectl, "kubernetes"))
	if base["ServiceMonitor"] != nil {
		t.Error("kubectl kustomize deploy/kubernetes gives a ServiceMonitor")
	}
	baseCM, _ := get(base["ConfigMap"], "metadata", "name").(string)
	if !regexp.MustCompile(`^flywheel-config-[a-z0-9]{6,}$`).MatchString(baseCM) {
		t.Errorf("generated ConfigMap %q has no content hash in its name", baseCM)
	}
	if !mountsConfigMap(base["StatefulSet"], baseCM) {
		t.Errorf("the built StatefulSet does not mount %s", baseCM)
	}

	dir := t.TempDir()
	abs, err := filepath.Abs("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, abs) // kustomize takes relative paths only
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("kubernetes/flywheel.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.Replace(cfg, []byte("name: acme"), []byte("name: example"), 1)
	overlay := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
components:
  - %s
configMapGenerator:
  - name: flywheel-config
    behavior: replace
    files:
      - flywheel.yml
`, rel, filepath.Join(rel, componentDir))
	for name, data := range map[string][]byte{"kustomization.yaml": []byte(overlay), "flywheel.yml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	over := byKind(kustomize(t, kubectl, dir))
	sm := over["ServiceMonitor"]
	if sm == nil {
		t.Fatal("the overlay with the servicemonitor component has no ServiceMonitor")
	}
	if get(sm, "spec", "selector", "matchLabels", "app.kubernetes.io/name") != get(over["Service"], "metadata", "labels", "app.kubernetes.io/name") {
		t.Errorf("the built ServiceMonitor selects %v, the Service is labelled %v", get(sm, "spec", "selector"), get(over["Service"], "metadata", "labels"))
	}
	overCM, _ := get(over["ConfigMap"], "metadata", "name").(string)
	if overCM == baseCM || !strings.HasPrefix(overCM, "flywheel-config-") {
		t.Errorf("an edited configuration gives ConfigMap %q, the base %q: the pod would not roll", overCM, baseCM)
	}
	if !mountsConfigMap(over["StatefulSet"], overCM) {
		t.Errorf("the overlay's StatefulSet does not mount %s", overCM)
	}
	if !strings.Contains(get(over["ConfigMap"], "data", "flywheel.yml").(string), "name: example") {
		t.Error("the overlay's ConfigMap is not the overlay's flywheel.yml")
	}
}

func mountsConfigMap(ss map[string]any, name string) bool {
	vs, _ := get(ss, "spec", "template", "spec", "volumes").([]any)
	for _, v := range vs {
		if get(v, "configMap", "name") == name {
			return true
		}
	}
	return false
}
