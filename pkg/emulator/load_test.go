package emulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Measurements that need a peer in another process: the test binary re-runs
// itself as that peer, told by the environment which part to play, so that
// the server's memory and CPU are its own.
const (
	envLoad        = "CONVCTL_LOAD"         // TestLoad: how many connections to hold
	envLoadClient  = "CONVCTL_LOAD_CLIENT"  // child: the URL to open them to
	envBenchServer = "CONVCTL_BENCH_SERVER" // child: serve an emulator, print its URL
	envBenchSecret = "BENCH_SECRET"
	envBenchToken  = "CONVCTL_BENCH_TOKEN"
)

// runChild plays a child's part when the environment asks for one.
func runChild() bool {
	switch {
	case os.Getenv(envLoadClient) != "":
		n, _ := strconv.Atoi(os.Getenv(envLoad))
		os.Exit(loadClient(os.Getenv(envLoadClient), n, os.Getenv(envBenchToken)))
	case os.Getenv(envBenchServer) != "":
		os.Exit(benchServer([]byte(os.Getenv(envBenchSecret))))
	}
	return false
}

// ---------------------------------------------------------------------------
// A lean client: raw TCP, a fixed upgrade request, one masked frame. It spends
// as little CPU as a WebSocket client can, so that a benchmark measures the
// server, and holds a connection for the price of a socket.

// srcAddrs spreads connections over 127.0.0.2–127.0.0.250: each source
// address has its own ~28k ephemeral ports towards one server port.
var srcSeq atomic.Uint32

func srcAddr() *net.TCPAddr {
	n := srcSeq.Add(1)
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+n%249))}
}

// rawHandshake upgrades, sends the SDK's init and reads the reply; it
// returns the open connection.
func rawHandshake(url, token string) (net.Conn, error) {
	hostport, path, ok := strings.Cut(strings.TrimPrefix(url, "ws://"), "/")
	if !ok {
		return nil, fmt.Errorf("bad url %q", url)
	}
	d := net.Dialer{LocalAddr: srcAddr(), Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", hostport)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	fail := func(err error) (net.Conn, error) { c.Close(); return nil, err }

	req := "GET /" + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	init := initFrame(token)
	msg := make([]byte, 0, len(req)+len(init)+14)
	msg = append(msg, req...)
	if _, err := c.Write(msg); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(c, 2048)
	status, err := br.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		return fail(fmt.Errorf("upgrade answered %q", strings.TrimSpace(status)))
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fail(err)
		}
		if len(line) <= 2 {
			break
		}
	}
	// One binary frame, FIN set, masked with a zero key (any key is valid).
	frame := []byte{0x82, 0}
	switch n := len(init); {
	case n < 126:
		frame[1] = 0x80 | byte(n)
	case n < 1<<16:
		frame[1] = 0x80 | 126
		frame = binary.BigEndian.AppendUint16(frame, uint16(n))
	default:
		frame[1] = 0x80 | 127
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	frame = append(frame, 0, 0, 0, 0)
	frame = append(frame, init...)
	if _, err := c.Write(frame); err != nil {
		return fail(err)
	}
	reply, err := readFrame(br)
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(reply, []byte(`"status":{"code":200,`)) {
		return fail(fmt.Errorf("init answered %.200s", reply))
	}
	if br.Buffered() > 0 {
		return fail(errors.New("unexpected bytes after the init reply"))
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// readFrame reads one unmasked server frame and returns its payload.
func readFrame(br *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return nil, err
	}
	if h[0] != 0x82 {
		return nil, fmt.Errorf("frame opcode byte %#x, want a final binary frame", h[0])
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return nil, fmt.Errorf("frame of %d bytes", n)
	}
	p := make([]byte, n)
	_, err := io.ReadFull(br, p)
	return p, err
}

func initFrame(token string) []byte {
	md := twilsock.Metadata{Ver: "1.0.2", Env: "Node.js", EnvV: "20.20.2", OS: "Linux", OSV: "unknown", OSA: 64,
		Type: "conversations", SDK: "JS", SDKV: "3.0.1"}
	regs := []twilsock.Registration{{Product: twilsock.ProductConversations, Type: "ers", MessageTypes: []string{
		"twilio.ipmsg.typing_indicator", "twilio.sync.event", "com.twilio.rtd.cds.document", "com.twilio.rtd.cds.list", "com.twilio.rtd.cds.map"}}}
	b, err := twilsock.Encode(twilsock.NewInit(token, nil, md, regs), nil)
	if err != nil {
		panic(err)
	}
	return b
}

// hangUpRST ends a connection with a reset, leaving no TIME_WAIT behind, so
// that a long benchmark does not run out of ports.
func hangUpRST(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// benchToken is valid for an hour from now, signed with secret.
func benchToken(tb testing.TB, secret []byte) string {
	tok, err := inspect.Mint(inspect.MintOptions{AccountSID: testAccount, APIKeySID: testKey, Secret: secret,
		Identity: "alice", ChatServiceSID: testService, TTL: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// ---------------------------------------------------------------------------
// TestLoad: how many initialised connections the server holds, and at what
// memory each. Off unless CONVCTL_LOAD=N, or CONVCTL_LOAD=cap to fill the
// default connection cap (DefaultMaxConns, from the open-file limit) and
// check that one more upgrade is refused while the control API answers:
//
//	CONVCTL_LOAD=10000 go test -run '^TestLoad$' -v -timeout 15m ./pkg/emulator/
//	CONVCTL_LOAD=cap go test -run '^TestLoad$' -v -timeout 15m ./pkg/emulator/

func TestLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(envLoad))
	toCap := os.Getenv(envLoad) == "cap"
	if toCap {
		_ = raiseFDLimit(1 << 20) // as far as the hard limit allows
		n = DefaultMaxConns()
		t.Logf("open-file limit %d: default cap %d connections", fdLimit(), n)
	}
	if n <= 0 {
		t.Skip("set CONVCTL_LOAD=N to hold N connections (e.g. 20000), or CONVCTL_LOAD=cap")
	}
	if err := raiseFDLimit(uint64(n) + 4096); err != nil {
		t.Fatalf("raising the open-file limit: %v", err)
	}
	if lim := fdLimit(); !toCap && lim < uint64(n)+64 {
		t.Fatalf("this process may open %d files, and %d connections need about %d: raise the hard limit "+
			"(ulimit -Hn, which needs root or CAP_SYS_RESOURCE) or ask for at most CONVCTL_LOAD=%d", lim, n, n+64, lim-64)
	}
	secret := []byte("load-test-secret-0123456789abcdef")
	// Pings every 10 minutes: the lean client does not read, so would not pong.
	srv := New(Config{Secret: secret, PingInterval: 10 * time.Minute})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		_ = hs.Shutdown(ctx)
	}
	defer stop() // on a failure; Shutdown is idempotent
	url := "ws://" + ln.Addr().String() + PathWS

	before := measure()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), envLoadClient+"="+url, envLoad+"="+strconv.Itoa(n), envBenchToken+"="+benchToken(t, secret))
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	start := time.Now()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = child.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		t.Fatalf("load client: %q %v", line, err)
	}
	took := time.Since(start)
	if got := srv.Stats().Connected; got != int64(n) {
		t.Fatalf("server holds %d initialised connections, want %d", got, n)
	}
	after := measure()
	rss := float64(after.rss-before.rss) / float64(n)
	goMem := float64((after.heap+after.stack)-(before.heap+before.stack)) / float64(n)
	t.Logf("%d initialised connections in %v (%.0f handshakes/s while opening them)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	t.Logf("per connection: RSS %.1f KiB; Go heap+stacks %.1f KiB (heap %.1f, stacks %.1f); goroutines %.2f",
		rss/1024, goMem/1024, float64(after.heap-before.heap)/float64(n)/1024, float64(after.stack-before.stack)/float64(n)/1024,
		float64(after.goroutines-before.goroutines)/float64(n))
	if rss > 16<<10 {
		t.Errorf("RSS per connection %.1f KiB exceeds the 16 KiB target", rss/1024)
	}
	if toCap {
		if _, err := rawHandshake(url, benchToken(t, secret)); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("one more upgrade at the cap: %v, want HTTP 503", err)
		}
		resp, err := http.Get("http://" + ln.Addr().String() + "/control/stats")
		if err != nil {
			t.Fatalf("control API at the cap: %v", err)
		}
		resp.Body.Close()
		t.Logf("at the cap of %d: one more upgrade refused with 503; control API answered %d", n, resp.StatusCode)
	}
	if path := os.Getenv("CONVCTL_LOAD_HEAPPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
	// With every connection live: each gets its close frames, and the lean
	// client, which never reads, makes Shutdown wait out its second.
	start = time.Now()
	stop()
	t.Logf("Shutdown closed %d live connections in %v", n, time.Since(start).Round(time.Millisecond))
	if st := srv.Stats(); st.Active != 0 {
		t.Errorf("%d connections left after Shutdown", st.Active)
	}
}

type memSample struct {
	rss, heap, stack uint64
	goroutines       int
}

// measure settles the heap (several cycles, so idle goroutine stacks shrink
// too) and samples the process.
func measure() memSample {
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := memSample{heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			s.rss = pages * uint64(os.Getpagesize())
		}
	}
	return s
}

// loadClient opens n initialised connections, says "ready", and holds them
// until stdin closes.
func loadClient(url string, n int, token string) int {
	if err := raiseFDLimit(uint64(n) + 4096); err != nil {
		fmt.Fprintln(os.Stderr, "load client: raising the open-file limit:", err)
		return 1
	}
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				c, err := rawHandshake(url, token)
				if err != nil {
					select {
					case errs <- fmt.Errorf("connection %d: %w", i, err):
					default:
					}
					next.Store(int64(n))
					return
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		fmt.Fprintln(os.Stderr, "load client:", err)
		return 1
	default:
	}
	fmt.Println("ready", n)
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		hangUpRST(c)
	}
	return 0
}

// ---------------------------------------------------------------------------
// BenchmarkHandshake: complete init handshakes per second (upgrade, init,
// token verified, init reply, hang up) against the server in another
// process, and against a minimal Node `ws` server doing the same
// (testdata/interop/bench/ws-server.js). The client is the lean one above,
// 32 at a time:
//
//	go test -run '^$' -bench Handshake -benchtime 20000x ./pkg/emulator/

func BenchmarkHandshake(b *testing.B) {
	if err := raiseFDLimit(65536); err != nil {
		b.Fatal(err)
	}
	secret := []byte("bench-secret-0123456789abcdef0123")
	token := benchToken(b, secret)
	self, _ := os.Executable()
	servers := []struct {
		name string
		cmd  func() *exec.Cmd
	}{
		{"convctl", func() *exec.Cmd {
			c := exec.Command(self, "-test.run=^$")
			c.Env = append(os.Environ(), envBenchServer+"=1", envBenchSecret+"="+string(secret))
			return c
		}},
		{"convctl-1cpu", func() *exec.Cmd {
			c := exec.Command(self, "-test.run=^$")
			c.Env = append(os.Environ(), envBenchServer+"=1", envBenchSecret+"="+string(secret), "GOMAXPROCS=1")
			return c
		}},
		{"node-ws", func() *exec.Cmd {
			script, _ := filepath.Abs("../../testdata/interop/bench/ws-server.js")
			c := exec.Command("node", script)
			c.Env = append(os.Environ(), envBenchSecret+"="+string(secret))
			return c
		}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			cmd := s.cmd()
			if s.name == "node-ws" {
				if _, err := exec.LookPath("node"); err != nil {
					b.Skip("node not installed")
				}
				if _, err := os.Stat("../../testdata/interop/node_modules/ws"); err != nil {
					b.Skip("testdata/interop/node_modules missing: run npm ci there")
				}
			}
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			stopped := false
			stopServer := func() time.Duration {
				if stopped {
					return 0
				}
				stopped = true
				stdin.Close()
				_ = cmd.Wait()
				if os.Getenv("CONVCTL_BENCH_CPUSPLIT") != "" {
					b.Logf("%s: user %v sys %v", s.name, cmd.ProcessState.UserTime(), cmd.ProcessState.SystemTime())
				}
				return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			defer stopServer()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				b.Fatalf("server did not print its URL: %v", err)
			}
			url := strings.TrimSpace(line)
			// Warm up: connections, JIT, pools. Their CPU is in the server's
			// total too, so they are few.
			const warmup = 200
			for range warmup {
				c, err := rawHandshake(url, token)
				if err != nil {
					b.Fatal(err)
				}
				hangUpRST(c)
			}
			clientCPU := processCPU()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			var failed atomic.Pointer[error]
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						c, err := rawHandshake(url, token)
						if err != nil {
							failed.CompareAndSwap(nil, &err)
							return
						}
						hangUpRST(c)
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			clientCPU = processCPU() - clientCPU
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
			b.ReportMetric(float64(clientCPU.Microseconds())/float64(b.N), "client-cpu-µs/op")
			// The server's own CPU per handshake (user+system, start-up and
			// warm-up included): what it costs, whoever else runs on the machine.
			cpu := stopServer()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N+warmup), "server-cpu-µs/op")
		})
	}
}

// benchServer serves an emulator on loopback for another process, prints its
// URL and serves until stdin closes.
func benchServer(secret []byte) int {
	if err := raiseFDLimit(65536); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := New(Config{Secret: secret})
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	if path := os.Getenv("CONVCTL_BENCH_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	fmt.Println("ws://" + ln.Addr().String() + PathWS)
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = hs.Shutdown(ctx)
	return 0
}
