package testpeer

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

// TinyproxyOptions is how a tinyproxy is set up for one test.
type TinyproxyOptions struct {
	// User and Password, when set, make the proxy ask for Basic credentials
	// (407; a wrong pair gets 401).
	User, Password string
	// ConnectPorts, when set, are the only ports CONNECT may reach.
	ConnectPorts []int
	// Filter holds extended regular expressions of host names to refuse
	// (403 "Filtered").
	Filter []string
}

// Tinyproxy is a running tinyproxy.
type Tinyproxy struct {
	// Addr is its 127.0.0.1:port.
	Addr string

	mu  sync.Mutex
	log bytes.Buffer
}

// Log returns what tinyproxy has logged so far: proof of what went through
// it.
func (p *Tinyproxy) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// URL is http://127.0.0.1:port, with userinfo ("user:password") when given.
func (p *Tinyproxy) URL(userinfo string) string {
	if userinfo != "" {
		return "http://" + userinfo + "@" + p.Addr
	}
	return "http://" + p.Addr
}

// StartTinyproxy runs tinyproxy with o on a free 127.0.0.1 port until the
// test ends. Without tinyproxy the test ends through Missing.
func StartTinyproxy(t testing.TB, o TinyproxyOptions) *Tinyproxy {
	t.Helper()
	bin := Need(t, "tinyproxy", "tinyproxy")
	var last error
	for range 3 { // a free port can be taken between choosing it and binding it
		p, err := startTinyproxy(t, bin, o)
		if err == nil {
			return p
		}
		last = err
	}
	t.Fatalf("tinyproxy did not start: %v", last)
	return nil
}

func startTinyproxy(t testing.TB, bin string, o TinyproxyOptions) (*Tinyproxy, error) {
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	var conf strings.Builder
	fmt.Fprintf(&conf, "Port %d\nListen 127.0.0.1\nTimeout 10\nMaxClients 50\nAllow 127.0.0.1\nLogLevel Info\n", port)
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
		fmt.Fprintf(&conf, "FilterDefaultDeny No\nFilterExtended On\nFilter %q\n", f)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-d", "-c", cf)
	// With -d, tinyproxy logs to stdout (flushed per line).
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Tinyproxy{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	ready := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
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
			return nil, fmt.Errorf("tinyproxy exited before accepting connections:\n%s", p.Log())
		}
	case <-time.After(10 * time.Second):
		stop()
		return nil, fmt.Errorf("tinyproxy not ready within 10s:\n%s", p.Log())
	}
	t.Cleanup(stop)
	return p, nil
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
