package probe

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/twilsock"
)

// BenchmarkTimeToConnected compares the probe's own measure of time to
// connected (dial start to the init reply handled: Timing.Connected) with
// the least a client can do against the same local emulator: a bare gorilla
// dial and one init round trip. The "connect-ns" metric is the figure to
// compare; ns/op also counts each run's clean disconnect.
func BenchmarkTimeToConnected(b *testing.B) {
	_, url := startEmulator(b, emulator.Config{})
	tok := mintToken(b, testSecret, time.Hour, "")

	b.Run("probe", func(b *testing.B) {
		cfg := fastConfig(url, tok)
		cfg.Secret = nil
		benchProbeConnect(b, cfg)
	})
	b.Run("bare", func(b *testing.B) { benchBareConnect(b, websocket.DefaultDialer, url, tok) })
}

// benchProbeConnect runs the probe with cfg b.N times and reports the mean
// of its own time to connected as "connect-ns".
func benchProbeConnect(b *testing.B, cfg Config) {
	var total time.Duration
	b.ReportAllocs()
	for b.Loop() {
		rep, err := Run(context.Background(), cfg)
		if err != nil || rep.Outcome != OutcomeConnected || rep.Timing.Connected == nil {
			b.Fatalf("run: %v %+v", err, rep)
		}
		total += time.Duration(*rep.Timing.Connected * float64(time.Millisecond))
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "connect-ns")
}

// benchBareConnect is the least a client can do: d dials url, sends the
// very init the probe sends (so both pay for the same bytes) and reads the
// reply, b.N times; the mean up to the reply is "connect-ns". Each run then
// disconnects cleanly (counted in ns/op only).
func benchBareConnect(b *testing.B, d *websocket.Dialer, url, tok string) {
	md := (&run{cfg: Config{Version: "dev"}}).metadata()
	regs := []twilsock.Registration{{Product: twilsock.ProductConversations, Type: "ers", MessageTypes: conversationsMessageTypes}}
	var total time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		ws, _, err := d.Dial(url, http.Header{})
		if err != nil {
			b.Fatal(err)
		}
		frame, err := twilsock.Encode(twilsock.NewInit(tok, nil, md, regs), nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
			b.Fatal(err)
		}
		_, msg, err := ws.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		f, err := twilsock.Decode(msg)
		if err != nil || !f.Header.Status.OK() {
			b.Fatalf("init reply: %v %+v", err, f)
		}
		total += time.Since(start)
		closeFrame, _ := twilsock.Encode(twilsock.NewClientClose(), nil)
		_ = ws.WriteMessage(websocket.BinaryMessage, closeFrame)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				break
			}
		}
		ws.Close()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "connect-ns")
}
