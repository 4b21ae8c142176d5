package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/convctl/convctl/pkg/twilsock"
)

// floodKind is what a hostile server writes after its init reply, as fast
// as the socket takes it.
type floodKind int

const (
	floodNotify   floodKind = iota // one valid notification, over and over
	floodDistinct                  // notifications, each with a new message type
	floodJunk                      // binary frames that are not Twilsock
	floodText                      // text WebSocket messages
	floodAboutToExpire
)

func floodFrame(kind floodKind, i int) (int, []byte) {
	switch kind {
	case floodJunk:
		return websocket.BinaryMessage, []byte("TWILSOCK V3.0 7\r\n{junk" + strconv.Itoa(i%10) + "}\r\n")
	case floodText:
		return websocket.TextMessage, []byte("hello " + strconv.Itoa(i))
	case floodAboutToExpire:
		b, _ := twilsock.Encode(twilsock.NewClientUpdate(twilsock.ClientUpdateTokenAboutToExpire), nil)
		return websocket.BinaryMessage, b
	}
	mt := "twilio.ipmsg.typing_indicator"
	if kind == floodDistinct {
		mt = "flood." + strconv.Itoa(i)
	}
	h := &twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: "TM" + strconv.Itoa(i)}, MessageType: mt}
	b, _ := twilsock.Encode(h, []byte(`{}`))
	return websocket.BinaryMessage, b
}

// scriptFlood answers init (or, with beforeReply, not), then floods until
// the client goes. With drain the client's acks are read; without, the
// server never reads again and the client's writes back up.
func scriptFlood(kind floodKind, beforeReply, drain bool, sent *atomic.Int64) func(*srvConn) {
	return func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		if !beforeReply {
			c.send(twilsockReplyOK(f.Header.ID), nil)
		}
		drained := make(chan struct{})
		if drain {
			go func() {
				defer close(drained)
				for {
					if _, _, err := c.ws.NextReader(); err != nil {
						return
					}
				}
			}()
		} else {
			close(drained)
		}
		defer func() {
			c.ws.NetConn().Close()
			<-drained
		}()
		for i := 0; ; i++ {
			typ, b := floodFrame(kind, i)
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(typ, b); err != nil {
				return
			}
			sent.Add(1)
		}
	}
}

// TestFloodKeepsReportBoundedAndDeadline: a server that floods frames must
// not grow the report (it used to gain an event per frame: 122-167 MB of
// JSON in 5 s) nor hold Run past its timeout.
func TestFloodKeepsReportBoundedAndDeadline(t *testing.T) {
	const maxJSON = 64 << 10
	for _, tc := range []struct {
		name        string
		kind        floodKind
		beforeReply bool
		drain       bool
		outcome     Outcome
	}{
		{"notifications", floodNotify, false, true, OutcomeConnected},
		{"notifications, server never reads", floodNotify, false, false, ""},
		{"distinct notifications", floodDistinct, false, true, OutcomeConnected},
		{"junk frames", floodJunk, false, true, OutcomeConnected},
		{"junk instead of the init reply", floodJunk, true, true, OutcomeTimeout},
		{"text messages", floodText, false, true, OutcomeConnected},
		{"about to expire, renewing", floodAboutToExpire, false, true, OutcomeConnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			fs := newFakeServer(t, scriptFlood(tc.kind, tc.beforeReply, tc.drain, &sent))
			cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
			cfg.Timeout = time.Second
			cfg.Hold = time.Hour // the run ends at its timeout, mid-flood
			cfg.NoReconnect = true
			cfg.Renew = tc.kind == floodAboutToExpire
			// Fails if Run overran Timeout + 1 s by the wall clock.
			rep, starved := runProbeStarved(t, context.Background(), cfg)
			fs.close()
			if tc.outcome != "" {
				wantOutcome(t, rep, tc.outcome)
			}
			// And by the run's own clock, less what a loaded machine took.
			if limit := cfg.Timeout + time.Second + starved; rep.DurationMS > float64(limit/time.Millisecond) {
				t.Errorf("the run's own clock says %.0fms, over timeout + 1s (+ %v unscheduled)", rep.DurationMS, starved)
			}
			b, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > maxJSON {
				t.Errorf("report is %d bytes of JSON after %d flooded frames, want <= %d", len(b), sent.Load(), maxJSON)
			}
			if len(rep.Events) > 8*MaxEventsPerName || len(rep.States) > MaxStates || len(rep.InnerStates) > MaxInnerStates ||
				len(rep.Warnings) > MaxWarnings+1 || len(rep.Reconnects) > MaxReconnects {
				t.Errorf("lists over their bounds: %d events, %d states, %d inner, %d warnings, %d reconnects",
					len(rep.Events), len(rep.States), len(rep.InnerStates), len(rep.Warnings), len(rep.Reconnects))
			}
			counted := 0
			for _, e := range rep.Events {
				counted += max(e.Count, 1)
				if e.Count == 1 || (e.Count > 1) != (e.LastAtMS != nil) || (e.LastAtMS != nil && *e.LastAtMS < e.AtMS) {
					t.Errorf("event %+v: count and last_at_ms disagree", e)
				}
			}
			if rep.Omitted != nil {
				counted += rep.Omitted.Events
			}
			validateConnectSchema(t, b)
			t.Logf("%d frames sent, %d events counted in %d entries, %d bytes of JSON, %.0fms", sent.Load(), counted, len(rep.Events), len(b), rep.DurationMS)
		})
	}
}

// TestAboutToExpireFloodDoesNotFloodTheTokenSource: a server that answers
// every update and asks again at once must not make the probe call its
// token source (a command, a URL) thousands of times.
func TestAboutToExpireFloodDoesNotFloodTheTokenSource(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		for {
			c.send(twilsock.NewClientUpdate(twilsock.ClientUpdateTokenAboutToExpire), nil)
			f := c.read()
			if f == nil {
				return
			}
			if f.Header.Method == twilsock.MethodUpdate {
				c.send(twilsockReplyOK(f.Header.ID), nil)
			}
		}
	})
	tok := mintToken(t, testSecret, time.Hour, "")
	var fetches atomic.Int32
	cfg := fastConfig(fs.URL, tok)
	cfg.Token = func(context.Context) (string, error) { fetches.Add(1); return tok, nil }
	cfg.Renew = true
	cfg.Hold = time.Hour
	cfg.Timeout = 1500 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	asked := 0
	for _, n := range eventNames(rep) {
		if n == EventTokenAboutToExpire {
			asked++
		}
	}
	// The first token, and a renewal at most once a second.
	if n := fetches.Load(); n > 3 || n < 2 || asked < 10 {
		t.Errorf("%d token fetches for %d tokenAboutToExpire in %v", n, asked, cfg.Timeout)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "not renewed") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
}

// TestLongStatusTextIsClipped: a status text is the peer's to choose; the
// report repeats it (cause, event, reconnect) only up to MaxMessageBytes.
func TestLongStatusTextIsClipped(t *testing.T) {
	long := strings.Repeat("é", 10000)
	fs := newFakeServer(t, func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		c.send(twilsock.NewReply(f.Header.ID, twilsock.Status{Code: 500, Status: long, Description: long}), nil)
		c.drain()
	})
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.NoReconnect = true
	rep := runProbe(t, cfg)
	b, _ := json.Marshal(rep)
	if len(b) > 8<<10 {
		t.Errorf("report is %d bytes for a %d-byte status text", len(b), len(long))
	}
	if rep.Cause == nil || !strings.Contains(rep.Cause.Message, "é…") {
		t.Errorf("cause = %+v", rep.Cause)
	}
}

// validateConnectSchema checks a report against the shipped JSON Schema of
// connect -o json (docs/schema), which the fields a flood adds must match.
func validateConnectSchema(t *testing.T, report []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "schema", "connect.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const id = "https://raw.githubusercontent.com/convctl/convctl/main/docs/schema/connect.schema.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("report does not match docs/schema/connect.schema.json: %v", err)
	}
}

// TestFloodDoesNotStarveTimers: frames arriving without pause must not keep
// the state machine from its timers: the hold ends the run on time.
func TestFloodDoesNotStarveTimers(t *testing.T) {
	var sent atomic.Int64
	fs := newFakeServer(t, scriptFlood(floodNotify, false, true, &sent))
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Timeout = 20 * time.Second
	cfg.Hold = 200 * time.Millisecond
	var connectedAt time.Duration
	cfg.Observer = func(u Update) {
		if u.Kind == UpdateState && u.Inner == InnerConnected && connectedAt == 0 {
			connectedAt = u.At
		}
	}
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if n := len(eventNames(rep)); n <= FoldAfter {
		t.Fatalf("no flood seen: events %+v", rep.Events)
	}
	// The hold timer fired, not the 20 s timeout; allow for a loaded machine.
	if end := rep.States[len(rep.States)-1].AtMS; end > float64((connectedAt+cfg.Hold+5*time.Second)/time.Millisecond) {
		t.Errorf("the run ended at %.0fms, hold ended at %.0fms: the flood starved the hold timer", end, float64((connectedAt+cfg.Hold)/time.Millisecond))
	}
}

// BenchmarkConnectFlood runs a probe for a second against a server that
// floods notifications and reports what it costs: B/op and allocs/op for
// the whole run, frames/op handled, and the process's peak RSS.
func BenchmarkConnectFlood(b *testing.B) {
	var sent atomic.Int64
	fs := newFakeServer(b, scriptFlood(floodNotify, false, true, &sent))
	tok := mintToken(b, testSecret, time.Hour, "")
	b.ReportAllocs()
	var frames int
	for b.Loop() {
		cfg := fastConfig(fs.URL, tok)
		cfg.Timeout = time.Second
		cfg.Hold = time.Hour
		rep, err := Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range rep.Events {
			frames += max(e.Count, 1)
		}
	}
	b.ReportMetric(float64(frames)/float64(b.N), "frames/op")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
}
