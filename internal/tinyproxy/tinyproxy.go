// Package tinyproxy starts Debian's tinyproxy on a loopback port for tests,
// with a configuration per case, and stops it when the test ends.
//
// Start skips the test (loudly) when the tinyproxy binary is missing, and
// fails it instead when CI=true: CI installs it (.ci/run).
package tinyproxy

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options is one case's configuration.
type Options struct {
	// User and Password, when set, require Basic credentials (BasicAuth).
	User, Password string
	// ConnectPorts, when set, are the only ports CONNECT may reach.
	ConnectPorts []int
	// Filter lists patterns (tinyproxy's Filter file) of hosts to refuse.
	Filter []string
}

// Proxy is a running tinyproxy.
type Proxy struct {
	// Addr is its 127.0.0.1:port.
	Addr string

	mu  sync.Mutex
	log bytes.Buffer
}

// Log returns what tinyproxy has logged so far.
func (p *Proxy) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// URL is http://127.0.0.1:port, with user:password when given.
func (p *Proxy) URL(userinfo string) string {
	if userinfo != "" {
		return "http://" + userinfo + "@" + p.Addr
	}
	return "http://" + p.Addr
}

// Binary finds tinyproxy, or skips (fails under CI=true) the test.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("tinyproxy")
	if err != nil {
		for _, p := range []string{"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("tinyproxy is not installed, and CI=true requires it (apt-get install tinyproxy)")
		}
		t.Skip("SKIPPED: tinyproxy is not installed (apt-get install tinyproxy); the real-proxy cases did not run")
	}
	return path
}

// Start runs tinyproxy with o until the test ends.
func Start(t testing.TB, o Options) *Proxy {
	t.Helper()
	bin := Binary(t)
	var lastErr error
	for range 3 { // a free port can be taken between choosing it and binding it
		p, err := start(t, bin, o)
		if err == nil {
			return p
		}
		lastErr = err
	}
	t.Fatalf("tinyproxy did not start: %v", lastErr)
	return nil
}

func start(t testing.TB, bin string, o Options) (*Proxy, error) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()

	var conf strings.Builder
	fmt.Fprintf(&conf, "Port %s\nListen 127.0.0.1\nTimeout 10\nMaxClients 50\nLogLevel Info\n", port)
	if o.User != "" {
		fmt.Fprintf(&conf, "BasicAuth %s %s\n", o.User, o.Password)
	}
	for _, cp := range o.ConnectPorts {
		fmt.Fprintf(&conf, "ConnectPort %d\n", cp)
	}
	if len(o.Filter) > 0 {
		f := filepath.Join(dir, "filter")
		if err := os.WriteFile(f, []byte(strings.Join(o.Filter, "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
		fmt.Fprintf(&conf, "Filter %q\nFilterDefaultDeny No\n", f)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-d", "-c", cf)
	// With -d, tinyproxy logs to stdout (flushed per line).
	stderr, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proxy{Addr: "127.0.0.1:" + port}
	ready := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if !signalled && strings.Contains(line, "Accepting connections") {
				signalled = true
				ready <- true
			}
		}
		if !signalled {
			ready <- false
		}
	}()
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		cmd.Wait()
	}
	select {
	case ok := <-ready:
		if !ok {
			stop()
			return nil, fmt.Errorf("tinyproxy exited: %s", p.Log())
		}
	case <-time.After(10 * time.Second):
		stop()
		return nil, fmt.Errorf("tinyproxy not ready in 10s: %s", p.Log())
	}
	t.Cleanup(stop)
	return p, nil
}
