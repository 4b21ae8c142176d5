package probe

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault is what the proxy does to the first connection through it; later
// connections pass untouched, so a reconnecting client finds a healthy path.
type fault int

const (
	faultNone        fault = iota
	faultLatency           // delay every chunk both ways
	faultCutMidFrame       // forward a few bytes of the first frame after the upgrade, then cut
	faultStallInit         // after the upgrade, forward nothing more (connection stays open)
	faultStallUp           // forward the upgrade request, never the response
	faultHalfOpen          // after the init reply, forward nothing more: a silent dead peer
	faultResetUp           // accept, then close at once
)

// faultProxy is a TCP proxy on 127.0.0.1 in front of a test server.
type faultProxy struct {
	t        testing.TB
	ln       net.Listener
	upstream string
	fault    fault
	latency  time.Duration

	mu    sync.Mutex
	n     int
	conns []net.Conn
	wg    sync.WaitGroup
	quit  chan struct{}
}

func newFaultProxy(t testing.TB, upstream string, f fault) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, upstream: upstream, fault: f, latency: 20 * time.Millisecond, quit: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) close() {
	close(p.quit)
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *faultProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		n := p.n
		p.n++
		p.mu.Unlock()
		f := p.fault
		if n > 0 {
			f = faultNone
		}
		p.track(c)
		if f == faultResetUp {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		p.track(up)
		s := &pipeState{}
		p.wg.Add(2)
		go p.pump(c, up, f, false, s)
		go p.pump(up, c, f, true, s)
	}
}

// pipeState is shared by a connection's two directions.
type pipeState struct {
	mu       sync.Mutex
	upgraded bool // the server's 101 has passed
	frames   int  // server-to-client chunks after the upgrade
	frozen   bool
}

func (s *pipeState) freeze() {
	s.mu.Lock()
	s.frozen = true
	s.mu.Unlock()
}

func (s *pipeState) isFrozen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frozen
}

// pump copies src to dst, applying the fault. fromServer marks the
// server-to-client direction.
func (p *faultProxy) pump(src, dst net.Conn, f fault, fromServer bool, s *pipeState) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	var seen []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			if s.isFrozen() {
				continue // swallow: the peer hears nothing
			}
			if f == faultLatency {
				select {
				case <-time.After(p.latency):
				case <-p.quit:
					return
				}
			}
			if fromServer {
				s.mu.Lock()
				wasUpgraded := s.upgraded
				if !s.upgraded {
					seen = append(seen, chunk...)
					if i := bytes.Index(seen, []byte("\r\n\r\n")); i >= 0 {
						s.upgraded = true
					}
				} else {
					s.frames++
				}
				frames := s.frames
				s.mu.Unlock()
				switch {
				case f == faultStallUp:
					s.freeze()
					continue
				case f == faultCutMidFrame && wasUpgraded:
					dst.Write(chunk[:min(len(chunk), 10)])
					src.Close()
					dst.Close()
					return
				case f == faultHalfOpen && wasUpgraded && frames == 1:
					dst.Write(chunk)
					s.freeze()
					continue
				}
				if _, err := dst.Write(chunk); err != nil {
					return
				}
				if f == faultStallInit && s.upgraded {
					s.freeze()
				}
				continue
			}
			if _, err := dst.Write(chunk); err != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "closed") {
				p.t.Logf("proxy: %v", err)
			}
			if !s.isFrozen() {
				dst.Close()
			}
			return
		}
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   fault
		timeout time.Duration
		hold    time.Duration
		ping    time.Duration
		noRetry bool
		outcome Outcome
		kind    CauseKind
		phase   Phase

		untilReconnected bool // hold until a second connect, then stop
	}{
		{name: "latency", fault: faultLatency, timeout: 2 * time.Second, outcome: OutcomeConnected},
		{name: "cut mid-frame, recovers", fault: faultCutMidFrame, timeout: 2 * time.Second, outcome: OutcomeConnected},
		{name: "cut mid-frame, no reconnect", fault: faultCutMidFrame, timeout: 2 * time.Second, noRetry: true,
			outcome: OutcomeTimeout, kind: CauseNetwork, phase: PhaseInit},
		{name: "reset at accept", fault: faultResetUp, timeout: 2 * time.Second, noRetry: true,
			outcome: OutcomeUnreachable, kind: CauseNetwork, phase: PhaseUpgrade},
		{name: "stall after upgrade", fault: faultStallInit, timeout: 300 * time.Millisecond, noRetry: true,
			outcome: OutcomeTimeout, kind: CauseTimeout, phase: PhaseInit},
		{name: "stall in upgrade", fault: faultStallUp, timeout: 300 * time.Millisecond, noRetry: true,
			outcome: OutcomeUnreachable, kind: CauseTimeout, phase: PhaseUpgrade},
		{name: "half-open while holding", fault: faultHalfOpen, timeout: 2 * time.Second, hold: 5 * time.Second,
			ping: 20 * time.Millisecond, noRetry: true, outcome: OutcomeDisconnected, kind: CauseNetwork},
		{name: "half-open, recovers", fault: faultHalfOpen, timeout: 2 * time.Second, hold: time.Hour,
			ping: 20 * time.Millisecond, outcome: OutcomeConnected, untilReconnected: true},
		{name: "half-open past the timeout", fault: faultHalfOpen, timeout: 300 * time.Millisecond, hold: 5 * time.Second,
			outcome: OutcomeConnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t, scriptLenient)
			p := newFaultProxy(t, strings.TrimPrefix(fs.srv.URL, "http://"), tc.fault)
			cfg := fastConfig("ws://"+p.addr()+"/v3/wsconnect", mintToken(t, testSecret, time.Hour, ""))
			cfg.Timeout, cfg.Hold, cfg.PingInterval, cfg.NoReconnect = tc.timeout, tc.hold, tc.ping, tc.noRetry
			ctx := context.Background()
			if tc.untilReconnected {
				ctx = stopWhen(t, &cfg, reconnected())
			}
			rep := runProbeCtx(t, ctx, cfg) // fails if it overruns timeout + 1s
			if tc.untilReconnected && !rep.Interrupted {
				t.Errorf("never reconnected: states %v, events %v", states(rep), eventNames(rep))
			}
			wantOutcome(t, rep, tc.outcome)
			if tc.outcome == OutcomeConnected {
				if rep.Cause != nil {
					t.Errorf("cause = %+v on a connected run", rep.Cause)
				}
				return
			}
			if rep.Cause == nil || rep.Cause.Kind != tc.kind || rep.Cause.Phase != tc.phase || rep.Cause.Hint == "" {
				t.Errorf("cause = %+v, want kind %s phase %q with a hint", rep.Cause, tc.kind, tc.phase)
			}
		})
	}
}

func TestLatencyShowsInTiming(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	p := newFaultProxy(t, strings.TrimPrefix(fs.srv.URL, "http://"), faultLatency)
	rep := runProbe(t, fastConfig("ws://"+p.addr()+"/v3/wsconnect", mintToken(t, testSecret, time.Hour, "")))
	wantOutcome(t, rep, OutcomeConnected)
	// Each phase crosses the proxy twice (request, answer): at least 2 × 20 ms.
	for name, v := range map[string]*float64{"upgrade": rep.Timing.Upgrade, "init": rep.Timing.Init} {
		if v == nil || *v < 40 {
			t.Errorf("%s = %v ms, want >= 40 through a 20 ms proxy", name, v)
		}
	}
}

// scriptLenient answers init when it arrives; through a faulty proxy it may
// never arrive, which is not the server's failure to report.
func scriptLenient(c *srvConn) {
	for f := c.read(); f != nil; f = c.read() {
		if f.Header.Method == "init" {
			ct := "CT"
			h := twilsockReplyOK(f.Header.ID)
			h.ContinuationToken = &ct
			c.send(h, nil)
		}
	}
}
