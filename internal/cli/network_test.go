package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/tinyproxy"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/tlsca"
)

// The network path end to end: every case runs the whole CLI against
// servers on 127.0.0.1 that the test starts, with the real Twilio host name
// in the URL and --connect-to sending it to them, so SNI and the
// certificate's name are checked as they would be against Twilio.

const tsockHost = "tsock.us1.twilio.com"
const tsockURL = "wss://" + tsockHost + "/v3/wsconnect"

// netCLI runs convctl with args and exactly the environment env.
func netCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := TestIO()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = Run(ctx, args, io, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// tlsEmulator serves the emulator over TLS with cert; it returns the port.
func tlsEmulator(t testing.TB, cert tls.Certificate) string {
	t.Helper()
	em := emulator.New(emulator.Config{Secret: []byte(connSecret)})
	srv := httptest.NewUnstartedServer(em)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}

type netFixture struct {
	ca                  *tlsca.CA
	caFile              string
	good, expired, name string // emulator ports: valid cert, expired, wrong name
	plain               string // the emulator over plain HTTP
	token               string
}

func newNetFixture(t *testing.T) *netFixture {
	t.Helper()
	f := &netFixture{token: mintConn(t, connSecret, time.Now(), time.Hour)}
	var err error
	if f.ca, err = tlsca.NewCA(pkix.Name{CommonName: "Contoso Inspection CA", Organization: []string{"Contoso"}}, tlsca.Validity{}); err != nil {
		t.Fatal(err)
	}
	f.caFile = filepath.Join(t.TempDir(), "contoso.pem")
	if err := f.ca.WriteCertPEM(f.caFile); err != nil {
		t.Fatal(err)
	}
	issue := func(v tlsca.Validity, names ...string) tls.Certificate {
		c, err := f.ca.Issue(names, v)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	f.good = tlsEmulator(t, issue(tlsca.Validity{}, tsockHost))
	f.expired = tlsEmulator(t, issue(tlsca.Validity{NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, tsockHost))
	f.name = tlsEmulator(t, issue(tlsca.Validity{}, "www.example.org"))
	u := strings.TrimPrefix(startConnEmulator(t, emulator.Config{}), "ws://")
	_, f.plain, _ = net.SplitHostPort(u[:strings.Index(u, "/")])
	return f
}

func connectTo(port string) string { return tsockHost + ":443:127.0.0.1:" + port }

// inProcProxy answers CONNECT as told: a fixed answer, silence, or a
// tunnel; cut accepts CONNECT and hangs up at the first bytes after it.
func inProcProxy(t testing.TB, answer string, silent, cut bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				first, err := br.ReadString('\n')
				if err != nil {
					return
				}
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if l == "\r\n" {
						break
					}
				}
				switch {
				case silent:
					io.Copy(io.Discard, br)
					return
				case answer != "":
					c.Write([]byte(answer))
					return
				case cut:
					c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
					br.ReadByte()
					return
				}
				up, err := net.Dial("tcp", strings.Fields(first)[1])
				if err != nil {
					c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
					return
				}
				defer up.Close()
				c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
				go func() { io.Copy(up, br); up.Close() }()
				io.Copy(c, up)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

type netCase struct {
	name    string
	env     map[string]string
	args    []string
	exit    int
	outcome probe.Outcome
	cause   probe.CauseKind
	status  int    // cause.http_status
	msg     string // in cause.message
	check   func(t *testing.T, rep *probe.Report)
}

func netCases(t *testing.T, f *netFixture, canary string) []netCase {
	open := tinyproxy.Start(t, tinyproxy.Options{})
	auth := tinyproxy.Start(t, tinyproxy.Options{User: "alice", Password: canary})
	only443 := tinyproxy.Start(t, tinyproxy.Options{ConnectPorts: []int{443}})
	filtered := tinyproxy.Start(t, tinyproxy.Options{Filter: []string{"twilio"}})
	ct := func(port string) []string { return []string{"--connect-to", connectTo(port)} }
	withCA := func(a ...string) []string { return append(a, "--ca-file", f.caFile) }
	pw := "alice:" + canary
	return []netCase{
		{name: "company CA trusted: connects, interception named", args: withCA(ct(f.good)...), exit: exitOK, outcome: probe.OutcomeConnected,
			check: func(t *testing.T, rep *probe.Report) {
				tl := rep.Network.TLS
				if tl == nil || !tl.Verified || tl.PubliclyTrusted || tl.InterceptedBy == nil || *tl.InterceptedBy != "CN=Contoso Inspection CA,O=Contoso" {
					t.Errorf("tls = %+v", tl)
				}
				if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "intercepted") {
					t.Errorf("warnings = %q", rep.Warnings)
				}
			}},
		{name: "company CA not trusted", args: ct(f.good), exit: exitCannotFinish, outcome: probe.OutcomeUnreachable,
			cause: probe.CauseTLS, msg: "Contoso Inspection CA"},
		{name: "expired certificate", args: withCA(ct(f.expired)...), exit: exitCannotFinish, outcome: probe.OutcomeUnreachable,
			cause: probe.CauseTLS, msg: "expired"},
		{name: "wrong name", args: withCA(ct(f.name)...), exit: exitCannotFinish, outcome: probe.OutcomeUnreachable,
			cause: probe.CauseTLS, msg: "not for tsock.us1.twilio.com (it names www.example.org)"},
		{name: "plain HTTP on the TLS port", args: ct(f.plain), exit: exitCannotFinish, outcome: probe.OutcomeUnreachable,
			cause: probe.CauseTLS, msg: "plain HTTP"},
		{name: "tinyproxy, open", args: withCA(append(ct(f.good), "--proxy", "http://"+open.Addr)...), exit: exitOK, outcome: probe.OutcomeConnected,
			check: func(t *testing.T, rep *probe.Report) {
				p := rep.Network.Proxy
				if p == nil || p.Source != "flag" || p.ConnectStatus == nil || *p.ConnectStatus != 200 || p.Target != "127.0.0.1:"+f.good ||
					rep.Timing.Proxy == nil || len(rep.Network.Addresses) != 0 {
					t.Errorf("proxy = %+v timing %+v", p, rep.Timing)
				}
			}},
		{name: "tinyproxy, Basic credentials", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+auth.Addr)...), exit: exitOK, outcome: probe.OutcomeConnected},
		{name: "tinyproxy, no credentials", args: withCA(append(ct(f.good), "--proxy", "http://"+auth.Addr)...), exit: exitCannotFinish,
			outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 407, msg: "requires credentials"},
		{name: "tinyproxy, wrong password", args: withCA(append(ct(f.good), "--proxy", "http://alice:wrong-"+canary+"@"+auth.Addr)...), exit: exitCannotFinish,
			outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 401, msg: "rejected the credentials"},
		{name: "tinyproxy, CONNECT only to 443", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+only443.Addr)...), exit: exitCannotFinish,
			outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 403, msg: "policy"},
		// .invalid never resolves (RFC 6761): nothing leaves the machine even if the filter failed.
		{name: "tinyproxy, host filtered", args: withCA("--connect-to", tsockHost+":443:blocked.twilio.invalid:"+f.good, "--proxy", "http://"+pw+"@"+filtered.Addr),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 403},
		// Go's environment rules never proxy loopback, so the URL names the
		// real host: HTTPS_PROXY applies, and the proof is the source and
		// tinyproxy's answer in the report; NO_PROXY then turns it off.
		{name: "HTTPS_PROXY from the environment", env: map[string]string{"HTTPS_PROXY": "http://" + pw + "@" + auth.Addr},
			args: withCA(ct(f.good)...), exit: exitOK, outcome: probe.OutcomeConnected,
			check: func(t *testing.T, rep *probe.Report) {
				if p := rep.Network.Proxy; p == nil || p.Source != "HTTPS_PROXY" || *p.ConnectStatus != 200 {
					t.Errorf("proxy = %+v", p)
				}
			}},
		{name: "NO_PROXY bypasses it", env: map[string]string{"https_proxy": "http://" + pw + "@" + auth.Addr, "no_proxy": "example.com,.twilio.com"},
			args: withCA(ct(f.good)...), exit: exitOK, outcome: probe.OutcomeConnected,
			check: func(t *testing.T, rep *probe.Report) {
				n := rep.Network
				if n.Proxy != nil || n.ProxyBypassedBy == nil || *n.ProxyBypassedBy != "no_proxy entry .twilio.com" || len(n.Addresses) != 1 {
					t.Errorf("network = %+v", n)
				}
			}},
		{name: "--no-proxy ignores the environment", env: map[string]string{"HTTPS_PROXY": "http://" + pw + "@127.0.0.1:1"},
			args: withCA(append(ct(f.good), "--no-proxy")...), exit: exitOK, outcome: probe.OutcomeConnected},
		{name: "proxy unreachable", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+deadAddr(t))...),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, msg: "unreachable"},
		{name: "proxy answers 502", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+inProcProxy(t, "HTTP/1.1 502 Bad Gateway\r\n\r\n", false, false))...),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 502, msg: "could not reach"},
		{name: "proxy answers garbage", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+inProcProxy(t, "\x15\x03\x01\x00\x02\x02\x46", false, false))...),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, msg: "did not answer CONNECT with HTTP"},
		{name: "proxy wants NTLM", args: withCA(append(ct(f.good), "--proxy", "http://"+pw+"@"+inProcProxy(t, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\n\r\n", false, false))...),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, status: 407, msg: "NTLM, Negotiate"},
		{name: "proxy never answers", args: withCA(append(ct(f.good), "--timeout", "400ms", "--proxy", "http://"+pw+"@"+inProcProxy(t, "", true, false))...),
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, msg: "answer CONNECT"},
		{name: "CONNECT accepted, upgrade cut", args: []string{"--url", "ws://" + tsockHost + "/v3/wsconnect", "--connect-to", tsockHost + ":80:127.0.0.1:" + f.plain,
			"--proxy", "http://" + pw + "@" + inProcProxy(t, "", false, true)},
			exit: exitCannotFinish, outcome: probe.OutcomeUnreachable, cause: probe.CauseProxy, msg: "accepted CONNECT"},
	}
}

func TestConnectNetworkPath(t *testing.T) {
	noLeaks(t)
	f := newNetFixture(t)
	for _, tc := range netCases(t, f, "s3cret") {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TOKEN": f.token}
			for k, v := range tc.env {
				env[k] = v
			}
			args := append([]string{"connect", "--token-env", "TOKEN", "--no-reconnect", "-o", "json"}, tc.args...)
			if !hasArg(args, "--url") {
				args = append(args, "--url", tsockURL)
			}
			code, stdout, stderr := netCLI(t, env, args...)
			if code != tc.exit {
				t.Errorf("exit = %d, want %d\nstderr: %s\nstdout: %s", code, tc.exit, stderr, stdout)
			}
			rep := decodeReport(t, stdout)
			if rep.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s", rep.Outcome, tc.outcome)
			}
			if rep.Network == nil {
				t.Fatalf("no network in the report:\n%s", stdout)
			}
			switch {
			case tc.cause == "" && rep.Cause != nil:
				t.Errorf("cause = %+v, want null", rep.Cause)
			case tc.cause != "" && (rep.Cause == nil || rep.Cause.Kind != tc.cause || !strings.Contains(rep.Cause.Message, tc.msg) || rep.Cause.Hint == ""):
				t.Errorf("cause = %+v, want kind %s with %q and a hint", rep.Cause, tc.cause, tc.msg)
			case tc.status != 0 && (rep.Cause.HTTPStatus == nil || *rep.Cause.HTTPStatus != tc.status):
				t.Errorf("cause.http_status = %v, want %d", rep.Cause.HTTPStatus, tc.status)
			}
			if tc.check != nil {
				tc.check(t, rep)
			}
			if strings.Contains(stdout+stderr, "s3cret") {
				t.Errorf("the proxy password shows:\n%s\n%s", stdout, stderr)
			}
		})
	}
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// One canary password, every failure path, every output: text, JSON,
// --debug logs and check's JUnit file. Nothing may contain it.
func TestProxyPasswordNeverShows(t *testing.T) {
	const canary = "CANARY-pw-9c1e77"
	f := newNetFixture(t)
	dir := t.TempDir()
	var all strings.Builder
	cases := netCases(t, f, canary)
	// And the bad-flag paths: a proxy URL that does not parse, or is not HTTP.
	cases = append(cases,
		netCase{name: "bad proxy URL", args: []string{"--proxy", "http://alice:" + canary + "@proxy:99999"}},
		netCase{name: "socks proxy", args: []string{"--proxy", "socks5://alice:" + canary + "@proxy:1080"}},
		netCase{name: "socks in HTTPS_PROXY", env: map[string]string{"HTTPS_PROXY": "socks5://alice:" + canary + "@proxy:1080"}, args: []string{"--connect-to", connectTo(f.good)}},
	)
	for i, tc := range cases {
		for _, mode := range [][]string{{"-o", "json"}, {"-o", "text", "--debug"}} {
			env := map[string]string{"TOKEN": f.token}
			for k, v := range tc.env {
				env[k] = v
			}
			for _, cmd := range []string{"connect", "check"} {
				args := append([]string{cmd, "--token-env", "TOKEN"}, mode...)
				args = append(args, tc.args...)
				if cmd == "connect" {
					args = append(args, "--no-reconnect")
				} else {
					args = append(args, "--junit", filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+cmd+mode[1]+".xml"))
				}
				if !hasArg(args, "--url") {
					args = append(args, "--url", tsockURL)
				}
				if !hasArg(args, "--timeout") {
					args = append(args, "--timeout", "1s")
				}
				_, stdout, stderr := netCLI(t, env, args...)
				all.WriteString(stdout + stderr)
				if i == 0 && mode[1] == "text" && cmd == "connect" && !strings.Contains(stderr, "[net]") {
					t.Errorf("--debug does not log the network steps:\n%s", stderr)
				}
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no JUnit file written")
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		all.Write(b)
	}
	out := all.String()
	if strings.Contains(out, canary) {
		i := strings.Index(out, canary)
		t.Errorf("the canary password shows in the output: …%s…", out[max(0, i-300):min(len(out), i+100)])
	}
	if !strings.Contains(out, "alice:***@") {
		t.Errorf("no redacted proxy URL anywhere: the cases did not reach the proxy")
	}
}

func TestCheckReportsNetwork(t *testing.T) {
	f := newNetFixture(t)
	tp := tinyproxy.Start(t, tinyproxy.Options{})
	junit := filepath.Join(t.TempDir(), "check.xml")
	env := map[string]string{"TOKEN": f.token, "HTTPS_PROXY": "http://" + tp.Addr}
	code, stdout, stderr := netCLI(t, env, "check", "--token-env", "TOKEN", "--url", tsockURL, "--connect-to", connectTo(f.good),
		"--ca-file", f.caFile, "--junit", junit)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"through proxy http://" + tp.Addr + " (HTTPS_PROXY)", "proxy: http://" + tp.Addr,
		"tls: TLS 1.3, verified, not publicly trusted, intercepted by CN=Contoso Inspection CA,O=Contoso"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
	b, _ := os.ReadFile(junit)
	for _, want := range []string{`name="proxy"`, `name="tls" value="TLS 1.3, verified`, `name="tls_intercepted_by" value="CN=Contoso Inspection CA,O=Contoso"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JUnit lacks %s:\n%s", want, b)
		}
	}
	code, stdout, _ = netCLI(t, env, "check", "--token-env", "TOKEN", "--url", tsockURL, "--connect-to", connectTo(f.good), "-o", "json", "--timeout", "500ms")
	var rep struct {
		OK      bool
		Network struct {
			Proxy struct{ Source string }
			TLS   struct {
				Verified      bool
				InterceptedBy *string `json:"intercepted_by"`
			}
		}
		Checks []struct{ Name, Status string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if code != exitCannotFinish || rep.OK || rep.Network.Proxy.Source != "HTTPS_PROXY" || rep.Network.TLS.Verified || rep.Network.TLS.InterceptedBy == nil {
		t.Errorf("exit %d, report %+v", code, rep)
	}
}

// deadAddr is a 127.0.0.1 address where nothing listens.
func deadAddr(t testing.TB) string {
	u := strings.TrimPrefix(deadURL(t), "ws://")
	return u[:strings.Index(u, "/")]
}

// The Network block as a person reads it, on a pipe and on a terminal:
// through a proxy whose answer carries a hostile reason (escaped), and
// direct with IPv6 failing and a re-signed chain this machine trusts.
func TestConnectNetworkGolden(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	s := func(v string) *string { return &v }
	i := func(v int) *int { return &v }
	nb, na := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2036, 1, 30, 0, 0, 0, 0, time.UTC)
	chain := []netpath.Cert{
		{Subject: "CN=tsock.us1.twilio.com", Issuer: "CN=Contoso Inspection CA,O=Contoso", NotBefore: nb, NotAfter: na,
			SHA256: "3f5c0e1d9a8b7c6d5e4f30211203948576afbecd1029384756abcdef01239a01"},
	}
	reports := map[string]*probe.Report{
		"network-proxy": {
			URL: tsockURL, Outcome: probe.OutcomeUnreachable,
			States: []probe.StateChange{{State: "connecting", AtMS: 0}, {State: "disconnecting", AtMS: 3000}, {State: "disconnected", AtMS: 3000.2}},
			Timing: probe.Timing{Proxy: f(0.8), TLS: f(2.1)},
			Token:  &probe.TokenInfo{Identity: "alice", Signature: "unchecked"},
			Network: &netpath.Path{
				Proxy: &netpath.Proxy{URL: "http://alice:***@proxy.corp:3128", Source: "HTTPS_PROXY", Target: "tsock.us1.twilio.com:443",
					ConnectStatus: i(200), ConnectMS: f(0.8), Reason: "Connection established\x1b[2J", Via: []string{"1.1 proxy.corp"}},
				Addresses: []netpath.Address{},
				TLS: &netpath.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "http/1.1", ServerName: tsockHost,
					Chain: chain, InterceptedBy: s("CN=Contoso Inspection CA,O=Contoso"),
					Error: s(`TLS interception: the certificate for tsock.us1.twilio.com was issued by "CN=Contoso Inspection CA,O=Contoso", not a public CA, and this machine does not trust it`)},
			},
			Cause: &probe.Cause{Kind: probe.CauseTLS, Phase: probe.PhaseTLS,
				Message: `TLS interception: the certificate for tsock.us1.twilio.com was issued by "CN=Contoso Inspection CA,O=Contoso", not a public CA, and this machine does not trust it`,
				Hint:    netpath.InterceptionHint()},
		},
		"network-direct": {
			URL: tsockURL, Outcome: probe.OutcomeConnected,
			States: []probe.StateChange{{State: "connecting", AtMS: 0}, {State: "connected", AtMS: 40.2}, {State: "disconnecting", AtMS: 40.3}, {State: "disconnected", AtMS: 41}},
			Timing: probe.Timing{DNS: f(1.2), TCP: f(12.5), TLS: f(9.8), Upgrade: f(8.1), Init: f(7.7), Connected: f(40.1)},
			Token:  &probe.TokenInfo{Identity: "alice", Signature: "unchecked"},
			Network: &netpath.Path{
				ProxyBypassedBy: s("NO_PROXY entry .twilio.com"),
				Addresses: []netpath.Address{
					{Address: "[2600:1f18::1]:443", Family: "ipv6", Error: s("network is unreachable")},
					{Address: "54.172.60.1:443", Family: "ipv4", TCPMS: f(12.4), Used: true},
				},
				TLS: &netpath.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "http/1.1", ServerName: tsockHost,
					Chain: chain, Verified: true, InterceptedBy: s("CN=Contoso Inspection CA,O=Contoso")},
			},
			Warnings: []string{"IPv6 failed and IPv4 worked (54.172.60.1:443): clients that try IPv6 first connect slower, or not at all"},
		},
	}
	for name, rep := range reports {
		for _, tty := range []bool{false, true} {
			file := name + ".txt"
			if tty {
				file = name + ".tty.txt"
			}
			t.Run(file, func(t *testing.T) {
				var buf bytes.Buffer
				renderConnectText(&buf, newColorScheme(tty), rep, probe.OutcomeConnected)
				if strings.Contains(buf.String(), "\x1b[2J") {
					t.Errorf("a proxy's reason reached the terminal unescaped")
				}
				path := filepath.Join("testdata", "connect", file)
				if updateGolden() {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("report differs from %s (run with -update to accept):\ngot:\n%s\nwant:\n%s", path, buf.String(), want)
				}
			})
		}
	}
}
