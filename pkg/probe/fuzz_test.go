package probe

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/twilsock"
)

// idHole stands for the init's id in fuzz inputs; it is as long as an id, so
// a frame's header length stays right when it is filled in.
var idHole = "TM" + strings.Repeat("#", 36)

// FuzzServerFrame lets a server say anything: the input, with idHole replaced
// by the init's id, is sent either instead of the init reply (first byte
// even) or after a good one (odd). Whatever it is, the run must end within
// its timeout plus a second, with one of the five outcomes and, unless it
// connected, a cause.
func FuzzServerFrame(f *testing.F) {
	frame := func(mode byte, h twilsock.Message, payload []byte) []byte {
		b, err := twilsock.Encode(h, payload)
		if err != nil {
			f.Fatal(err)
		}
		return append([]byte{mode}, b...)
	}
	reply := func(st twilsock.Status) *twilsock.Header { return twilsock.NewReply(idHole, st) }
	close308, p308, _ := twilsock.NewServerClose(twilsock.CloseStatus(308), &twilsock.BackoffPolicy{ReconnectMinMS: 1 << 40})
	f.Add(frame(0, reply(twilsock.OKStatus()), nil))
	f.Add(frame(0, reply(twilsock.DenyStatus(twilsock.ErrTokenExpired)), nil))
	f.Add(frame(0, reply(twilsock.Status{Code: 429}), []byte(`{"backoff_policy":{"reconnect_min_ms":-5}}`)))
	f.Add(frame(0, reply(twilsock.Status{Code: 500}), []byte(`not json`)))
	f.Add(frame(1, close308, p308))
	f.Add(frame(1, close308, []byte(`{"backoff_policy":{"reconnect_min_ms":"soon"}}`)))
	f.Add(frame(1, twilsock.NewClientUpdate("token_about_to_expire"), nil))
	f.Add(frame(1, &twilsock.Header{Base: twilsock.Base{Method: "close", ID: "x"}}, nil)) // close without a status
	f.Add(frame(1, &twilsock.Header{Base: twilsock.Base{Method: "reply", ID: "nobody"}}, nil))
	f.Add([]byte("\x00TWILSOCK V3.0 2\r\n{}\r\n"))
	f.Add([]byte("\x01TWILSOCK V3.0 99999999\r\n"))
	f.Add([]byte{1})

	var mu sync.Mutex
	var input []byte
	fs := newFakeServer(f, func(c *srvConn) {
		mu.Lock()
		in := input
		mu.Unlock()
		init := c.read()
		if init == nil || len(in) == 0 {
			c.drain()
			return
		}
		msg := bytes.ReplaceAll(in[1:], []byte(idHole), []byte(init.Header.ID))
		if in[0]%2 == 1 {
			c.send(twilsockReplyOK(init.Header.ID), nil)
		}
		_ = c.ws.WriteMessage(websocket.BinaryMessage, msg)
		c.drain()
	})
	tok := mintToken(f, testSecret, time.Hour, "")

	f.Fuzz(func(t *testing.T, in []byte) {
		mu.Lock()
		input = in
		mu.Unlock()
		cfg := fastConfig(fs.URL, tok)
		cfg.Timeout = 50 * time.Millisecond // short: a garbled reply means waiting it out, and minimizing runs it often
		cfg.Hold = 10 * time.Millisecond
		cfg.NoReconnect = true
		start := time.Now()
		lag := startLagMeter()
		rep, err := Run(context.Background(), cfg)
		starved := lag.end()
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el > cfg.Timeout+time.Second+starved {
			t.Errorf("run took %v (unscheduled %v)", el, starved)
		}
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
	})
}
