package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/exporter"
)

// The convctl program does not link the exporter: that is what keeps every
// other command's start fast (BenchmarkInspectCommand and the issue 8 note).
func TestConvctlLeavesTheExporterOut(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		testpeer.Missing(t, "go is not on PATH: this test asks the go tool what cmd/convctl links")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/convctl/convctl/cmd/convctl").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/prometheus/") || pkg == "github.com/convctl/convctl/pkg/exporter" ||
			strings.HasPrefix(pkg, "google.golang.org/protobuf/") {
			t.Errorf("cmd/convctl links %s; the exporter belongs in cmd/convctl-exporter", pkg)
		}
	}
}

// `convctl exporter`, run as a user runs it, becomes convctl-exporter in
// the same process: it serves probes, answers Prometheus' own metrics, and
// stops on the SIGTERM sent to the PID that was started.
func TestExporterHandsOffToCompanion(t *testing.T) {
	convctl, err := exec.LookPath("convctl") // TestMain put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	target := exporterEmulator(t, emulator.Config{})
	cmd := exec.Command(convctl, "exporter", "--listen", "127.0.0.1:0", "--hold", "0",
		"--token-url", tokenEndpoint(t, exporterSecret, nil), "--secret-file", writeSecret(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testpeer.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	var base string
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "http://127.0.0.1:") {
			t.Fatalf("first line %q; stderr:\n%s", line, stderr)
		}
		base = line
	case <-time.After(20 * time.Second):
		t.Fatalf("no URL within 20s; stderr:\n%s", stderr)
	}

	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s\n%s", url, resp.Status, b)
		}
		return string(b)
	}
	if probe := get(probeURL(base, target)); !strings.Contains(probe, "convctl_probe_success 1") {
		t.Errorf("probe answer:\n%s", probe)
	}
	if metrics := get(base + "metrics"); !strings.Contains(metrics, "go_goroutines") || !strings.Contains(metrics, `convctl_exporter_probes_total{module="connect",outcome="connected"} 1`) {
		t.Errorf("/metrics lacks the Go collector or the probe count:\n%s", metrics)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v; stderr:\n%s", err, stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5s after SIGTERM; stderr:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("stderr does not say it stopped:\n%s", stderr)
	}
}

func writeSecret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, exporterSecret, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The flag's default is the library's: the package cannot name it without
// linking the exporter, so the two are kept equal here.
func TestExporterHistoryDefault(t *testing.T) {
	if defaultExporterHistory != exporter.DefaultHistory {
		t.Errorf("--history defaults to %d, pkg/exporter to %d", defaultExporterHistory, exporter.DefaultHistory)
	}
}

// Without convctl-exporter, `convctl exporter` says what is missing and how
// to install it (exit 3), and reads nothing first.
func TestExporterWithoutCompanion(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	ios, _, out, errOut := TestIO()
	code := Run(context.Background(), []string{"exporter", "--token-url", "http://127.0.0.1:1/token"}, ios, func(string) string { return "" })
	if code != exitCannotFinish {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitCannotFinish, errOut)
	}
	for _, want := range []string{"convctl-exporter is not next to", "go install github.com/convctl/convctl/cmd/convctl-exporter@latest", "go run ./cmd/convctl-exporter exporter"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q, want nothing", out)
	}
}

// The companion is looked for next to the running program (symlinks
// resolved, as with a link in /usr/local/bin), then on PATH; a file that
// cannot be run does not count.
func TestFindCompanion(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	self := filepath.Join(dir, "convctl")
	beside := filepath.Join(dir, "convctl-exporter")
	for _, p := range []string{self, beside} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(other, "convctl")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	onPath := func(string) (string, error) { return "/on/path/convctl-exporter", nil }
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }

	for _, tt := range []struct {
		name, self string
		look       func(string) (string, error)
		want       string
	}{
		{"beside", self, onPath, beside},
		{"beside the link's target", link, notOnPath, beside},
		{"on PATH", filepath.Join(other, "x"), onPath, "/on/path/convctl-exporter"},
		{"self unknown", "", onPath, "/on/path/convctl-exporter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findCompanion("convctl-exporter", tt.self, tt.look)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if err := os.Chmod(beside, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findCompanion("convctl-exporter", self, notOnPath); err == nil || !strings.Contains(err.Error(), "next to "+self) {
		t.Errorf("a file that cannot be run was taken: %v", err)
	}
}

// Commands that run for a while get a context SIGINT and SIGTERM cancel;
// quick ones keep the default disposition and skip the watcher's cost.
func TestSignalsOnlyForLongCommands(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "t")
	if err := os.WriteFile(tok, []byte("not.a.token"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args  []string
		watch bool
	}{
		{[]string{"token", "inspect", "--token-file", tok}, false},
		{[]string{"token", "mint", "--account-sid", "AC00000000000000000000000000000001"}, false},
		{[]string{"version"}, false},
		{[]string{"--version"}, false},
		{[]string{"connect", "--token-file", tok, "--url", "ws://127.0.0.1:1/v3/wsconnect", "--timeout", "1ms"}, true},
		{[]string{"netcheck", "--allowlist"}, true},
	} {
		t.Run(strings.Join(tt.args[:min(2, len(tt.args))], " "), func(t *testing.T) {
			watched := false
			interrupt := func(ctx context.Context) context.Context { watched = true; return ctx }
			ios, _, _, _ := TestIO()
			Program{}.run(context.Background(), tt.args, ios, func(string) string { return "" }, interrupt)
			if watched != tt.watch {
				t.Errorf("signal watcher installed: %v, want %v", watched, tt.watch)
			}
		})
	}
}
