package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/proto"
)

// The deployment files under deploy/ (and the cluster section of the README)
// name sous subcommands, flags and environment variables; this test checks
// each against the command tree the binary builds, so a renamed flag cannot
// leave a broken manifest behind.

// knownEnv is every SOUS_* and AWS_* variable the binary reads: the ones
// named in flag usages ("($SOUS_STORE)"), the fault hook, and the ones the S3
// configuration asks for.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	env := map[string]bool{faultsEnv: true}
	ref := regexp.MustCompile(`\$([A-Z][A-Z0-9_]+)`)
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			for _, m := range ref.FindAllStringSubmatch(f.Usage, -1) {
				env[m[1]] = true
			}
		}
		c.Flags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&globals{stdout: io.Discard, stderr: io.Discard}))
	_, _ = s3.ConfigFromEnv("s3://bucket/prefix", func(k string) string {
		env[k] = true
		return ""
	})
	for _, want := range []string{"SOUS_NATS_URL", "SOUS_STORE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"} {
		if !env[want] {
			t.Fatalf("knownEnv misses %s: %v", want, env)
		}
	}
	return env
}

// checkArgs parses `sous args...` with a fresh command tree: the subcommand
// must exist, and every flag and argument must be accepted.
func checkArgs(t *testing.T, where string, args []string) {
	t.Helper()
	root := newRoot(&globals{stdout: io.Discard, stderr: io.Discard})
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root {
		t.Errorf("%s: sous %s: no such subcommand (%v)", where, strings.Join(args, " "), err)
		return
	}
	if !cmd.Runnable() {
		t.Errorf("%s: sous %s: %q is not a command that runs", where, strings.Join(args, " "), cmd.CommandPath())
		return
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: sous %s: %v", where, strings.Join(args, " "), err)
		return
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: sous %s: %v", where, strings.Join(args, " "), err)
	}
}

func checkEnv(t *testing.T, known map[string]bool, where, name string) {
	t.Helper()
	if (strings.HasPrefix(name, "SOUS_") || strings.HasPrefix(name, "AWS_")) && !known[name] {
		t.Errorf("%s: environment variable %s is not read by sous", where, name)
	}
}

func deployDir() string { return filepath.Join("..", "..", "deploy") }

func readYAMLDocs(t *testing.T, path string) []map[string]any {
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

// dig walks nested maps and lists: keys are map keys or, for lists, ignored
// in favour of the caller iterating. It returns nil when a key is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func strings_(t *testing.T, where string, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s: want a list of strings, got %T", where, v)
	}
	var out []string
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("%s: want a list of strings, got %T in it", where, x)
		}
		out = append(out, s)
	}
	return out
}

func TestDeployCompose(t *testing.T) {
	known := knownEnv(t)
	path := filepath.Join(deployDir(), "docker-compose.yml")
	docs := readYAMLDocs(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents", path, len(docs))
	}
	services, _ := docs[0]["services"].(map[string]any)
	var sousServices []string
	for name, svc := range services {
		image, _ := dig(svc, "image").(string)
		if !strings.HasPrefix(image, "sous:") {
			continue
		}
		sousServices = append(sousServices, name)
		where := path + ": " + name
		if df, _ := dig(svc, "build", "dockerfile").(string); df != "deploy/Dockerfile" {
			t.Errorf("%s: build.dockerfile %q", where, df)
		}
		checkArgs(t, where, strings_(t, where, dig(svc, "command")))
		env, ok := dig(svc, "environment").(map[string]any)
		if !ok {
			t.Fatalf("%s: no environment map", where)
		}
		for k := range env {
			checkEnv(t, known, where, k)
		}
		for _, k := range []string{"SOUS_NATS_URL", "SOUS_STORE", "AWS_ENDPOINT_URL"} {
			if _, ok := env[k]; !ok {
				t.Errorf("%s: %s is not set", where, k)
			}
		}
	}
	slices.Sort(sousServices)
	if !slices.Equal(sousServices, []string{"coordinator", "worker"}) {
		t.Errorf("%s: sous services %v, want coordinator and worker", path, sousServices)
	}
	if n, _ := dig(services, "worker", "deploy", "replicas").(int); n != 3 {
		t.Errorf("%s: worker replicas %d, want 3", path, n)
	}
	cmd := strings.Join(strings_(t, "coordinator", dig(services, "coordinator", "command")), " ")
	if !strings.Contains(cmd, "--create-bucket") {
		t.Errorf("%s: the coordinator does not create the bucket: %s", path, cmd)
	}
	nats := strings.Join(strings_(t, "nats", dig(services, "nats", "command")), " ")
	if !strings.Contains(nats, "--jetstream") {
		t.Errorf("%s: nats-server without JetStream: %s", path, nats)
	}
}

func TestDeployKubernetes(t *testing.T) {
	known := knownEnv(t)
	files, err := filepath.Glob(filepath.Join(deployDir(), "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	kinds := map[string]map[string]any{} // kind/name → document
	for _, f := range files {
		for _, doc := range readYAMLDocs(t, f) {
			kind, _ := doc["kind"].(string)
			name, _ := dig(doc, "metadata", "name").(string)
			if kind == "" || name == "" {
				t.Errorf("%s: a document without kind or metadata.name", f)
				continue
			}
			kinds[kind+"/"+name] = doc
			where := f + ": " + kind + "/" + name
			switch kind {
			case "ConfigMap":
				for k := range dig(doc, "data").(map[string]any) {
					checkEnv(t, known, where, k)
				}
			case "Secret":
				for k := range dig(doc, "stringData").(map[string]any) {
					checkEnv(t, known, where, k)
				}
			case "Deployment":
				for _, c := range dig(doc, "spec", "template", "spec", "containers").([]any) {
					cname, _ := dig(c, "name").(string)
					w := where + " container " + cname
					checkArgs(t, w, strings_(t, w, dig(c, "args")))
					if env, ok := dig(c, "env").([]any); ok {
						for _, e := range env {
							n, _ := dig(e, "name").(string)
							checkEnv(t, known, w, n)
						}
					}
				}
			}
		}
	}
	for _, want := range []string{"Deployment/sous-coordinator", "Deployment/sous-worker", "ScaledObject/sous-worker", "ConfigMap/sous", "Secret/sous-s3"} {
		if kinds[want] == nil {
			t.Errorf("deploy/k8s: no %s", want)
		}
	}
	so := kinds["ScaledObject/sous-worker"]
	if target, _ := dig(so, "spec", "scaleTargetRef", "name").(string); kinds["Deployment/"+target] == nil {
		t.Errorf("ScaledObject scales %q, not a Deployment here", target)
	}
	triggers, _ := dig(so, "spec", "triggers").([]any)
	if len(triggers) != 1 {
		t.Fatalf("ScaledObject: %d triggers, want 1", len(triggers))
	}
	tr := triggers[0]
	if typ, _ := dig(tr, "type").(string); typ != "nats-jetstream" {
		t.Errorf("ScaledObject trigger type %q", typ)
	}
	if s, _ := dig(tr, "metadata", "stream").(string); s != proto.StreamJobs {
		t.Errorf("ScaledObject stream %q, want %s", s, proto.StreamJobs)
	}
	if c, _ := dig(tr, "metadata", "consumer").(string); c != proto.ConsumerName(proto.DefaultPool) {
		t.Errorf("ScaledObject consumer %q, want %s", c, proto.ConsumerName(proto.DefaultPool))
	}
	// The worker pool the scaler watches is the pool the workers pull.
	args := strings.Join(strings_(t, "worker", dig(kinds["Deployment/sous-worker"], "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["args"]), " ")
	if strings.Contains(args, "--pool") && !strings.Contains(args, "--pool "+proto.DefaultPool) {
		t.Errorf("the workers pull another pool than the scaler watches: %s", args)
	}
}

// unitLines returns the key=value lines of a systemd unit.
func unitLines(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is not key=value", path, line)
			continue
		}
		out[k] = append(out[k], v)
	}
	return out
}

func TestDeploySystemd(t *testing.T) {
	known := knownEnv(t)
	dir := filepath.Join(deployDir(), "systemd")
	envFile := filepath.Join(dir, "sous.env")
	for k := range unitLines(t, envFile) {
		checkEnv(t, known, envFile, k)
	}
	for _, unit := range []string{"sous-coordinator.service", "sous-worker@.service"} {
		path := filepath.Join(dir, unit)
		lines := unitLines(t, path)
		if !slices.Contains(lines["EnvironmentFile"], "/etc/sous/sous.env") {
			t.Errorf("%s: no EnvironmentFile=/etc/sous/sous.env", path)
		}
		execs := lines["ExecStart"]
		if len(execs) != 1 {
			t.Fatalf("%s: %d ExecStart lines", path, len(execs))
		}
		fields := strings.Fields(execs[0])
		if filepath.Base(fields[0]) != "sous" {
			t.Fatalf("%s: ExecStart runs %s", path, fields[0])
		}
		// systemd specifiers (%i, %H) stand for words; give them a value.
		args := strings.Fields(strings.NewReplacer("%i", "1", "%H", "host").Replace(strings.Join(fields[1:], " ")))
		checkArgs(t, path, args)
	}
}

// TestDeployDocs checks the `sous ...` command lines of the deployment
// README and of the main README's cluster section.
func TestDeployDocs(t *testing.T) {
	for _, path := range []string{filepath.Join(deployDir(), "README.md"), filepath.Join("..", "..", "README.md")} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if !strings.Contains(path, "deploy") {
			// The main README: its cluster section only.
			_, after, ok := strings.Cut(text, "## Run on a cluster")
			if !ok {
				t.Fatalf("%s: no \"Run on a cluster\" section", path)
			}
			text, _, _ = strings.Cut(after, "\n## ")
		}
		n := 0
		inCode := false
		for line := range strings.SplitSeq(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inCode = !inCode
				continue
			}
			if !inCode {
				continue
			}
			line = strings.TrimSpace(line)
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(line, "&")), " ")
			fields := strings.Fields(line)
			// Leading VAR=value assignments.
			for len(fields) > 0 && strings.Contains(fields[0], "=") && !strings.HasPrefix(fields[0], "-") {
				fields = fields[1:]
			}
			if len(fields) < 2 || (fields[0] != "sous" && fields[0] != "bin/sous") || strings.HasSuffix(line, "\\") {
				continue
			}
			args := fields[1:]
			if slices.ContainsFunc(args, func(a string) bool { return strings.ContainsAny(a, "<>|$[") }) {
				continue // a placeholder or a shell construct
			}
			checkArgs(t, path, args)
			n++
		}
		if n < 3 {
			t.Errorf("%s: only %d sous command lines checked", path, n)
		}
	}
}
