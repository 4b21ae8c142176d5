package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/twilsock"
)

// idHole stands for the id of the client's latest init or update in fuzz
// inputs; it is as long as an id, so a frame's header length stays right
// when it is filled in.
var idHole = "TM" + strings.Repeat("#", 36)

// A fuzz input is a flags byte, then a script for the server: chunks split
// by chunkSep, each an op byte and its data. The script runs across
// connections: what one connection leaves, the next reconnect continues.
var chunkSep = []byte("\xff\xfe")

// Script ops (the op byte modulo opCount).
const (
	opBinary = iota // send data as a binary message (idHole filled in)
	opText          // send data as a text message
	opWait          // wait until the client writes a frame
	opCut           // cut the connection: no close frame
	opClose         // a WebSocket close frame, code 1000 + data[0]
	opRefuse        // the next dial fails (only where a dial takes the next chunk)
	opRepeat        // data[:2] big-endian n (max maxRepeat), then a binary message sent n times
	opPong          // a pong with data
	opCount
)

const maxRepeat = 4096

// Flag bits of the first byte.
const (
	flagReconnect = 1 << iota
	flagRenew
	flagUpdateToken
	flagPing
	flagLongHold
)

func chunk(op byte, data []byte) []byte { return append([]byte{op}, data...) }

func script(flags byte, chunks ...[]byte) []byte {
	return append([]byte{flags}, bytes.Join(chunks, chunkSep)...)
}

// FuzzServerFrame lets a server say anything, in any order, across
// reconnects: each input is a script of frames (see the ops above), played
// to the real state machine through a scripted socket inside a synctest
// bubble, so timers, backoff and timeouts cost no real time and each
// execution leaves no goroutine behind. Whatever the script, the run must
// end (by its own clock) within its timeout plus a second with one of the
// five outcomes, a cause unless it connected cleanly, and a report whose
// size does not grow with the number of frames.
func FuzzServerFrame(f *testing.F) {
	enc := func(h twilsock.Message, payload []byte) []byte {
		b, err := twilsock.Encode(h, payload)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	bin := func(h twilsock.Message, payload []byte) []byte { return chunk(opBinary, enc(h, payload)) }
	reply := func(st twilsock.Status) *twilsock.Header { return twilsock.NewReply(idHole, st) }
	wait := chunk(opWait, nil)
	ok := bin(reply(twilsock.OKStatus()), nil)
	close308, p308, _ := twilsock.NewServerClose(twilsock.CloseStatus(308), &twilsock.BackoffPolicy{ReconnectMinMS: 1 << 40})
	close410, _, _ := twilsock.NewServerClose(twilsock.CloseStatus(twilsock.CloseTokenExpired), nil)
	note := &twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: "TMn"}, MessageType: "twilio.ipmsg.typing_indicator"}
	repeat := func(n uint16, b []byte) []byte {
		return chunk(opRepeat, append(binary.BigEndian.AppendUint16(nil, n), b...))
	}

	f.Add(script(0, wait, ok))
	f.Add(script(0, wait, bin(reply(twilsock.DenyStatus(twilsock.ErrTokenExpired)), nil)))
	f.Add(script(flagReconnect, wait, bin(reply(twilsock.Status{Code: 429}), []byte(`{"backoff_policy":{"reconnect_min_ms":-5}}`)), wait, ok))
	f.Add(script(0, wait, bin(reply(twilsock.Status{Code: 500}), []byte(`not json`))))
	f.Add(script(flagReconnect|flagLongHold, wait, ok, bin(close308, p308)))
	f.Add(script(flagLongHold, wait, ok, bin(close308, []byte(`{"backoff_policy":{"reconnect_min_ms":"soon"}}`))))
	f.Add(script(flagRenew|flagLongHold, wait, ok, bin(twilsock.NewClientUpdate("token_about_to_expire"), nil), wait, wait, ok, bin(close410, nil)))
	f.Add(script(flagUpdateToken, wait, ok, wait, wait, bin(reply(twilsock.DenyStatus(twilsock.ErrInvalidSignature)), nil)))
	f.Add(script(0, wait, ok, bin(&twilsock.Header{Base: twilsock.Base{Method: "close", ID: "x"}}, nil))) // close without a status
	f.Add(script(0, wait, bin(&twilsock.Header{Base: twilsock.Base{Method: "reply", ID: "nobody"}}, nil)))
	f.Add(script(flagLongHold, wait, ok, repeat(maxRepeat, enc(note, []byte(`{}`)))))  // a notification flood
	f.Add(script(0, wait, repeat(300, []byte("TWILSOCK V3.0 2\r\n{}\r\n"))))           // junk instead of the reply
	f.Add(script(flagReconnect|flagLongHold, wait, ok, chunk(opCut, nil), wait, ok))   // a drop, then back
	f.Add(script(flagReconnect, chunk(opRefuse, nil), chunk(opRefuse, nil), wait, ok)) // refused twice
	f.Add(script(flagPing|flagLongHold, wait, ok, chunk(opPong, []byte("1")), chunk(opText, []byte("hi")), chunk(opClose, []byte{1})))
	f.Add([]byte("\x00TWILSOCK V3.0 99999999\r\n"))
	f.Add([]byte{1})

	tok := mintToken(f, testSecret, time.Hour, "")
	f.Fuzz(func(t *testing.T, in []byte) {
		if rep := playScript(t, tok, in); rep != nil {
			checkReport(t, rep)
		}
	})
}

// playScript runs the probe against the script in in (see FuzzServerFrame)
// and returns its report, nil for an empty input.
func playScript(t *testing.T, tok string, in []byte) *Report {
	t.Helper()
	if len(in) == 0 {
		return nil
	}
	wall := time.Now()
	var rep *Report
	{
		flags := in[0]
		p := &fuzzPeer{chunks: bytes.Split(in[1:], chunkSep)}
		synctest.Test(t, func(t *testing.T) {
			start := time.Now() // the bubble's clock: fake, and advanced only when all wait
			p.wake = make(chan struct{})
			cfg := Config{
				URL:            "ws://peer.test/v3/wsconnect",
				Token:          staticToken(tok),
				Secret:         testSecret,
				Timeout:        5 * time.Second,
				Hold:           10 * time.Millisecond,
				NoReconnect:    flags&flagReconnect == 0,
				Renew:          flags&flagRenew != 0,
				UpdateToken:    flags&flagUpdateToken != 0,
				Backoff:        Backoff{Min: 5 * time.Millisecond, Max: 40 * time.Millisecond},
				RequestTimeout: 2 * time.Second,
				Rand:           func() float64 { return 0.5 },
				Now:            func() time.Time { return wall.Add(time.Since(start)) },
			}
			if flags&flagLongHold != 0 {
				cfg.Hold = time.Hour
			}
			if flags&flagPing != 0 {
				cfg.PingInterval = time.Second
			}
			var err error
			rep, err = runWith(context.Background(), cfg, p.dial)
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el > cfg.Timeout+time.Second {
				t.Errorf("run took %v by its own clock, over timeout %v + 1s", el, cfg.Timeout)
			}
		})
	}
	return rep
}

// TestScriptedPeer checks the fuzz harness itself: scripts reach the
// outcomes they are written for, so the fuzzer explores real paths.
func TestScriptedPeer(t *testing.T) {
	tok := mintToken(t, testSecret, time.Hour, "")
	enc := func(h twilsock.Message, payload []byte) []byte {
		b, err := twilsock.Encode(h, payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wait := chunk(opWait, nil)
	ok := chunk(opBinary, enc(twilsock.NewReply(idHole, twilsock.OKStatus()), nil))
	deny := chunk(opBinary, enc(twilsock.NewReply(idHole, twilsock.DenyStatus(twilsock.ErrInvalidSignature)), nil))
	note := enc(&twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: "TMn"}, MessageType: "m"}, nil)
	flood := chunk(opRepeat, append([]byte{maxRepeat >> 8, maxRepeat & 0xff}, note...))
	for _, tc := range []struct {
		name       string
		in         []byte
		outcome    Outcome
		reconnects int
		check      func(*Report) bool
	}{
		{"connect", script(0, wait, ok), OutcomeConnected, 0, nil},
		{"deny", script(0, wait, deny), OutcomeDenied, 0, nil},
		{"silent", script(0), OutcomeTimeout, 0, nil},
		{"refused twice", script(flagReconnect, chunk(opRefuse, nil), chunk(opRefuse, nil), wait, ok), OutcomeConnected, 2, nil},
		{"cut and back", script(flagReconnect|flagLongHold, wait, ok, chunk(opCut, nil), wait, ok), OutcomeConnected, 1, nil},
		{"flood", script(flagLongHold, wait, ok, flood), OutcomeConnected, 0, func(r *Report) bool {
			return len(eventNames(r)) == maxRepeat && len(r.Events) == FoldAfter && r.Events[FoldAfter-1].Count == maxRepeat-FoldAfter+1
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := playScript(t, tok, tc.in)
			wantOutcome(t, rep, tc.outcome)
			if len(rep.Reconnects) != tc.reconnects {
				t.Errorf("reconnects = %+v, want %d", rep.Reconnects, tc.reconnects)
			}
			if tc.check != nil && !tc.check(rep) {
				t.Errorf("events = %+v", rep.Events)
			}
			checkReport(t, rep)
		})
	}
}

func checkReport(t *testing.T, rep *Report) {
	t.Helper()
	switch rep.Outcome {
	case OutcomeConnected, OutcomeDenied, OutcomeDisconnected, OutcomeTimeout, OutcomeUnreachable:
	default:
		t.Errorf("outcome %q", rep.Outcome)
	}
	if rep.Outcome != OutcomeConnected && (rep.Cause == nil || rep.Cause.Message == "") {
		t.Errorf("outcome %s without a cause", rep.Outcome)
	}
	if len(rep.States) == 0 || rep.States[0].State != StateConnecting {
		t.Errorf("states = %v", rep.States)
	}
	// Eight event names with at most MaxEventsPerName entries each.
	if len(rep.Events) > 8*MaxEventsPerName || len(rep.States) > MaxStates || len(rep.InnerStates) > MaxInnerStates ||
		len(rep.Reconnects) > MaxReconnects || len(rep.Warnings) > MaxWarnings+1 {
		t.Errorf("lists over their bounds: %d events, %d states, %d inner, %d reconnects, %d warnings",
			len(rep.Events), len(rep.States), len(rep.InnerStates), len(rep.Reconnects), len(rep.Warnings))
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 512<<10 {
		t.Errorf("report is %d bytes of JSON", len(b))
	}
}

// fuzzPeer plays a script to the connections the probe opens. Its
// connections talk over channels only, so a synctest bubble sees every wait.
type fuzzPeer struct {
	mu      sync.Mutex
	chunks  [][]byte
	pos     int
	lastID  string        // the client's latest init or update
	written int           // frames the client has written
	seen    int           // writes an opWait has consumed
	wake    chan struct{} // closed and replaced on every client write
}

func (p *fuzzPeer) dial(_ *run, _ context.Context, _ *attempt) (wsConn, *http.Response, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pos < len(p.chunks) && len(p.chunks[p.pos]) > 0 && p.chunks[p.pos][0]%opCount == opRefuse {
		p.pos++
		return nil, nil, &phaseError{PhaseTCP, syscall.ECONNREFUSED}
	}
	return &fuzzConn{p: p, closed: make(chan struct{})}, nil, nil
}

type fuzzConn struct {
	p         *fuzzPeer
	closed    chan struct{}
	closeOnce sync.Once
	pong      func(string) error
	repeat    int
	repeatMsg []byte
	ended     error
}

func (c *fuzzConn) ReadMessage() (int, []byte, error) {
	p := c.p
	for {
		select {
		case <-c.closed:
			return 0, nil, net.ErrClosed
		default:
		}
		if c.ended != nil {
			return 0, nil, c.ended
		}
		if c.repeat > 0 {
			c.repeat--
			return websocket.BinaryMessage, c.repeatMsg, nil
		}
		p.mu.Lock()
		if p.pos >= len(p.chunks) {
			p.mu.Unlock()
			<-c.closed // the script is over: an idle server
			continue
		}
		ch := p.chunks[p.pos]
		p.pos++
		if len(ch) == 0 {
			p.mu.Unlock()
			continue
		}
		op, data := ch[0]%opCount, ch[1:]
		if op == opWait {
			for p.written <= p.seen {
				wake := p.wake
				p.mu.Unlock()
				select {
				case <-wake:
				case <-c.closed:
					return 0, nil, net.ErrClosed
				}
				p.mu.Lock()
			}
			p.seen = p.written
			p.mu.Unlock()
			continue
		}
		if p.lastID != "" {
			data = bytes.ReplaceAll(data, []byte(idHole), []byte(p.lastID))
		}
		p.mu.Unlock()
		switch op {
		case opBinary:
			return websocket.BinaryMessage, data, nil
		case opText:
			return websocket.TextMessage, data, nil
		case opCut:
			c.ended = io.ErrUnexpectedEOF
		case opClose:
			code := 1000
			if len(data) > 0 {
				code += int(data[0])
			}
			c.ended = &websocket.CloseError{Code: code, Text: string(data[min(1, len(data)):])}
		case opRepeat:
			if len(data) >= 2 {
				c.repeat = min(int(binary.BigEndian.Uint16(data)), maxRepeat)
				c.repeatMsg = data[2:]
			}
		case opPong:
			if c.pong != nil {
				_ = c.pong(string(data))
			}
		}
	}
}

func (c *fuzzConn) WriteMessage(_ int, data []byte) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, err := twilsock.Decode(data); err == nil {
		if m := f.Header.Method; m == twilsock.MethodInit || m == twilsock.MethodUpdate {
			p.lastID = f.Header.ID
		}
	}
	p.written++
	close(p.wake)
	p.wake = make(chan struct{})
	return nil
}

func (c *fuzzConn) WriteControl(int, []byte, time.Time) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
		return nil
	}
}

func (c *fuzzConn) SetWriteDeadline(time.Time) error            { return nil }
func (c *fuzzConn) SetPongHandler(h func(appData string) error) { c.pong = h }
func (c *fuzzConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}
