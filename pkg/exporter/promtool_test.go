package exporter

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
)

func promtool(t *testing.T, bin, stdin, dir string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Every kind of probe answer passes promtool's exposition linter.
func TestPromtoolCheckMetrics(t *testing.T) {
	bin := testpeer.Need(t, "promtool", "prometheus")
	good := startEmulator(t, emulator.Config{})
	denied := startEmulator(t, emulator.Config{Deny: 20107})
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t), Hold: 100 * time.Millisecond, PingInterval: 20 * time.Millisecond}, Options{})
	_, noToken := startExporter(t, ConnectConfig{Token: func(context.Context) (string, error) { return "", errTokenEndpoint }}, Options{})
	for name, u := range map[string]string{
		"good":     base + probePath(good),
		"denied":   base + probePath(denied),
		"no token": noToken + probePath(good),
		"metrics":  base + "/metrics",
	} {
		t.Run(name, func(t *testing.T) {
			a := get(t, u, "", "")
			if a.status != 200 || a.mfs == nil {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			promtool(t, bin, a.body, "", "check", "metrics")
		})
	}
}

func TestPromtoolRules(t *testing.T) {
	bin := testpeer.Need(t, "promtool", "prometheus")
	rules, err := filepath.Abs("../../docs/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	promtool(t, bin, "", "", "check", "rules", rules)
	// The alerts' own unit tests: each fires when it should, and only then.
	promtool(t, bin, "", "testdata", "test", "rules", "alerts_test.yml")
}

// The scrape configuration in docs/prometheus.md is one Prometheus accepts.
func TestPromtoolCheckDocsConfig(t *testing.T) {
	bin := testpeer.Need(t, "promtool", "prometheus")
	doc, err := os.ReadFile("../../docs/prometheus.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for i, part := range strings.Split(string(doc), "```yaml\n")[1:] {
		cfg, _, ok := strings.Cut(part, "```")
		if !ok || !strings.HasPrefix(cfg, "scrape_configs:") {
			continue
		}
		blocks++
		path := filepath.Join(t.TempDir(), "prometheus.yml")
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("block %d", i)
		promtool(t, bin, "", "", "check", "config", "--syntax-only", path)
	}
	if blocks == 0 {
		t.Fatal("docs/prometheus.md has no scrape_configs block")
	}
}
