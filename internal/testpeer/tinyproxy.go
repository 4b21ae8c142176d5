// Package testpeer starts the real programs convctl's tests talk to (Debian's
// tinyproxy, ...) on loopback, each stopped by the test that started it. It is
// for tests only; nothing in the shipped binary imports it.
package testpeer

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Need returns the path of a program the test needs. Without it the test is
// skipped, loudly, except under CI=true, where it fails: CI installs every
// real peer (.ci/run).
func Need(t testing.TB, program, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s; .ci/run installs it): this test drives the real program", program, debianPackage)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, NOT RUN: " + msg)
	return ""
}

// Tinyproxy is how a tinyproxy is set up for one test.
type Tinyproxy struct {
	// ConnectPorts, when set, are the only ports CONNECT may reach.
	ConnectPorts []int
	// Filter holds extended regular expressions of host names to refuse
	// (403 "Filtered").
	Filter []string
	// BasicAuth, "user:password", makes the proxy ask for credentials (407).
	BasicAuth string
}

// Start runs tinyproxy on a free 127.0.0.1 port and returns its address
// (host:port). It is stopped when the test ends.
func (tp Tinyproxy) Start(t testing.TB) string {
	t.Helper()
	bin := Need(t, "tinyproxy", "tinyproxy")
	dir := t.TempDir()
	var last error
	for try := 0; try < 3; try++ {
		addr, err := tp.start(t, bin, dir)
		if err == nil {
			return addr
		}
		last = err
	}
	t.Fatalf("tinyproxy did not start: %v", last)
	return ""
}

func (tp Tinyproxy) start(t testing.TB, bin, dir string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "Port %d\nListen 127.0.0.1\nTimeout 10\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Info\n", port)
	for _, p := range tp.ConnectPorts {
		fmt.Fprintf(&conf, "ConnectPort %d\n", p)
	}
	if len(tp.Filter) > 0 {
		f := filepath.Join(dir, "filter")
		if err := os.WriteFile(f, []byte(strings.Join(tp.Filter, "\n")+"\n"), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&conf, "FilterDefaultDeny No\nFilterExtended On\nFilter %q\n", f)
	}
	if tp.BasicAuth != "" {
		user, pass, _ := strings.Cut(tp.BasicAuth, ":")
		fmt.Fprintf(&conf, "BasicAuth %s %s\n", user, pass)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o600); err != nil {
		return "", err
	}
	cmd := exec.Command(bin, "-d", "-c", cf)
	out, err := cmd.StderrPipe()
	if err != nil {
		return "", err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var seen []string
		said := false
		for sc.Scan() {
			line := sc.Text()
			if !said {
				seen = append(seen, line)
			}
			if !said && strings.Contains(line, "Accepting connections") {
				ready <- nil
				said = true
			}
		}
		if !said {
			ready <- fmt.Errorf("exited before accepting connections:\n%s", strings.Join(seen, "\n"))
		}
	}()
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	select {
	case err := <-ready:
		if err != nil {
			stop()
			return "", err
		}
	case <-time.After(10 * time.Second):
		stop()
		return "", fmt.Errorf("not ready within 10s")
	}
	t.Cleanup(stop)
	return fmt.Sprintf("127.0.0.1:%d", port), nil
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before the peer binds it; callers retry.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
