package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/app/apptest"
	"github.com/tandemhq/tandem/internal/config"
)

// deployDir is examples/deploy at the repository's root.
func deployDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(filepath.Dir(apptest.ExamplesDir(t)), "deploy")
}

// serveFlags returns the flags `tandem serve` takes (its own and the
// global ones) by name, and the environment variables that can fill them.
func serveFlags(t *testing.T) (flags map[string]bool, env map[string]bool) {
	t.Helper()
	root := newRoot(&globals{})
	serve, _, err := root.Find([]string{"serve"})
	if err != nil || serve.Name() != "serve" {
		t.Fatalf("no serve command: %v", err)
	}
	flags, env = map[string]bool{}, map[string]bool{}
	add := func(f *pflag.Flag) {
		flags[f.Name] = true
		env["TANDEM_"+strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))] = true
	}
	serve.LocalFlags().VisitAll(add)
	root.PersistentFlags().VisitAll(add)
	return flags, env
}

// checkServeArgs checks that args run `serve` with flags it has, and
// returns the flags' values.
func checkServeArgs(t *testing.T, where string, args []string, flags map[string]bool) map[string]string {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Errorf("%s: runs %q, want the serve command", where, args)
		return nil
	}
	vals := map[string]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			t.Errorf("%s: stray argument %q", where, a)
			continue
		}
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !flags[name] {
			t.Errorf("%s: tandem serve has no flag --%s", where, name)
			continue
		}
		if !ok && i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			val = args[i+1]
			i++
		}
		vals[name] = val
	}
	return vals
}

func port(t *testing.T, where, listen string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		t.Errorf("%s: --listen %q: %v", where, listen, err)
	}
	return p
}

// The systemd unit runs flags serve has, keeps its database in the state
// directory systemd makes for it, and is hardened.
func TestDeploySystemdUnit(t *testing.T) {
	flags, _ := serveFlags(t)
	f, err := os.Open(filepath.Join(deployDir(t), "systemd", "tandem.service"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("unit line %q is not key=value", line)
			continue
		}
		keys[k] = append(keys[k], v)
	}
	exec := strings.Fields(keys["ExecStart"][0])
	if exec[0] != "/usr/local/bin/tandem" {
		t.Errorf("ExecStart runs %s", exec[0])
	}
	vals := checkServeArgs(t, "ExecStart", exec[1:], flags)
	if want := "/var/lib/" + keys["StateDirectory"][0]; vals["data-dir"] != want {
		t.Errorf("--data-dir %q, want the state directory %s (the only writable place under ProtectSystem=strict)", vals["data-dir"], want)
	}
	for k, want := range map[string]string{
		"DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes", "ProtectHome": "yes",
		"PrivateTmp": "yes", "ExecReload": "/bin/kill -HUP $MAINPID", "CapabilityBoundingSet": "",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
}

// The container image runs serve with flags it has, on the port it
// exposes, as a user that is not root, with environment variables that
// name real flags.
func TestDeployContainerfile(t *testing.T) {
	flags, env := serveFlags(t)
	b, err := os.ReadFile(filepath.Join(deployDir(t), "container", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	// The last stage is the image.
	text := string(b)
	text = text[strings.LastIndex(text, "\nFROM "):]
	instr := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == strings.ToUpper(k) && !strings.HasPrefix(k, "#") {
			instr[k] = strings.TrimSpace(v)
		}
	}
	var entry, cmd []string
	if err := json.Unmarshal([]byte(instr["ENTRYPOINT"]), &entry); err != nil || len(entry) != 1 {
		t.Fatalf("ENTRYPOINT %q: want the binary alone, in exec form", instr["ENTRYPOINT"])
	}
	if err := json.Unmarshal([]byte(instr["CMD"]), &cmd); err != nil {
		t.Fatalf("CMD %q: %v", instr["CMD"], err)
	}
	vals := checkServeArgs(t, "CMD", cmd, flags)
	if p := port(t, "CMD", vals["listen"]); p != instr["EXPOSE"] {
		t.Errorf("listens on port %s, exposes %s", p, instr["EXPOSE"])
	}
	if u := instr["USER"]; u == "" || strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("USER %q: the image must not run as root", u)
	}
	for _, kv := range strings.Fields(instr["ENV"]) {
		name, _, _ := strings.Cut(kv, "=")
		if !env[name] {
			t.Errorf("ENV %s names no flag of tandem serve", name)
		}
	}
}

// k8sObject is the part of a Kubernetes object the test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Replicas *int `yaml:"replicas"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		MinAvailable any `yaml:"minAvailable"`
		Ports        []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type k8sEnv struct {
	Name      string `yaml:"name"`
	Value     string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef *struct {
			Name string `yaml:"name"`
			Key  string `yaml:"key"`
		} `yaml:"secretKeyRef"`
	} `yaml:"valueFrom"`
}

type k8sContainer struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env            []k8sEnv  `yaml:"env"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// The Kubernetes manifests agree with the binary and with each other:
// args are serve's flags, probes hit /healthz and /readyz on the port
// serve listens on (and a real server answers them), every env name is a
// flag's variable or one the config names, every Secret reference exists,
// the Service and the PodDisruptionBudget select the pods, and the
// ConfigMap is a tandem.d that validates.
func TestDeployKubernetes(t *testing.T) {
	flags, env := serveFlags(t)
	dir := filepath.Join(deployDir(t), "kubernetes")
	byKind := map[string][]k8sObject{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			byKind[o.Kind] = append(byKind[o.Kind], o)
		}
	}
	for _, kind := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} {
		if len(byKind[kind]) != 1 {
			t.Fatalf("%d objects of kind %s, want 1", len(byKind[kind]), kind)
		}
	}
	dep, svc, cm, sec, pdb := byKind["Deployment"][0], byKind["Service"][0], byKind["ConfigMap"][0], byKind["Secret"][0], byKind["PodDisruptionBudget"][0]

	// The ConfigMap is a valid tandem.d.
	cfgDir := filepath.Join(t.TempDir(), "tandem.d")
	if err := os.Mkdir(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	envNamed := map[string]bool{}
	envKey := regexp.MustCompile(`\b\w+_env:\s*([A-Z_][A-Z0-9_]*)`)
	for name, body := range cm.Data {
		if err := os.WriteFile(filepath.Join(cfgDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, m := range envKey.FindAllStringSubmatch(body, -1) {
			envNamed[m[1]] = true
		}
	}
	if _, err := config.Load(cfgDir, time.Now()); err != nil {
		t.Errorf("the ConfigMap's tandem.d does not validate: %v", err)
	}

	pod := dep.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	vals := checkServeArgs(t, "container args", c.Args, flags)
	listenPort := port(t, "container args", vals["listen"])
	ports := map[string]string{}
	for _, p := range c.Ports {
		ports[p.Name] = strconv.Itoa(p.ContainerPort)
	}
	resolve := func(p any) string {
		switch v := p.(type) {
		case string:
			return ports[v]
		case int:
			return strconv.Itoa(v)
		}
		return ""
	}
	for name, pr := range map[string]*k8sProbe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if pr == nil || pr.HTTPGet.Path != name {
			t.Errorf("no probe on %s", name)
			continue
		}
		if got := resolve(pr.HTTPGet.Port); got != listenPort {
			t.Errorf("probe %s on port %q, serve listens on %s", name, got, listenPort)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name && m.MountPath == vals["config"] {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("ConfigMap %s is not mounted at --config %s", cm.Metadata.Name, vals["config"])
	}
	for _, e := range c.Env {
		if !env[e.Name] && !envNamed[e.Name] {
			t.Errorf("env %s is neither TANDEM_<flag> of serve nor named by the config", e.Name)
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			if _, ok := sec.StringData[ref.Key]; ref.Name != sec.Metadata.Name || !ok {
				t.Errorf("env %s reads secret %s key %s, which the manifests do not define", e.Name, ref.Name, ref.Key)
			}
		}
	}
	sets := func(name string) bool {
		return slices.ContainsFunc(c.Env, func(e k8sEnv) bool { return e.Name == name })
	}
	for name := range envNamed {
		if !sets(name) {
			t.Errorf("the config reads $%s, which the Deployment does not set", name)
		}
	}
	if !env["TANDEM_DATABASE_URL"] {
		t.Fatal("serve has no --database-url")
	}
	if dep.Spec.Replicas != nil && *dep.Spec.Replicas > 1 && !sets("TANDEM_DATABASE_URL") {
		t.Error("several replicas without TANDEM_DATABASE_URL would each have their own SQLite file")
	}
	selects := func(sel map[string]string) bool {
		for k, v := range sel {
			if pod.Metadata.Labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	}
	if !selects(dep.Spec.Selector.MatchLabels) || !selects(pdb.Spec.Selector.MatchLabels) {
		t.Error("the Deployment's or the PodDisruptionBudget's selector does not match the pod labels")
	}
	var svcSel struct {
		Spec struct {
			Selector map[string]string `yaml:"selector"`
		} `yaml:"spec"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "service.yaml"))
	if err := yaml.Unmarshal(b, &svcSel); err != nil || !selects(svcSel.Spec.Selector) {
		t.Errorf("the Service's selector %v does not match the pod labels", svcSel.Spec.Selector)
	}
	if len(svc.Spec.Ports) != 1 || resolve(svc.Spec.Ports[0].TargetPort) != listenPort {
		t.Errorf("the Service targets %v, serve listens on %s", svc.Spec.Ports, listenPort)
	}

	// The probes' paths answer 200 on a real server.
	srv := apptest.Start(t, apptest.Options{})
	for _, p := range []string{c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", p, resp.Status)
		}
	}
}
