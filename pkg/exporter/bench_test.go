package exporter

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/probe"
)

// BenchmarkProbe compares a whole /probe scrape (HTTP request, the probe
// with its log captured, a fresh registry, the exposition) with the probe
// alone (probe.Run, no logger) against the same local emulator, with the
// same token and no hold: the difference is what the exporter costs on top
// of a bare connect.
func BenchmarkProbe(b *testing.B) {
	ws := startEmulator(b, emulator.Config{})
	tok := mint(b, testSecret, time.Now())

	b.Run("run", func(b *testing.B) {
		cfg := probe.Config{URL: ws, Token: staticToken(tok), Timeout: 10 * time.Second, NoReconnect: true}
		fastTune(&cfg)
		b.ReportAllocs()
		for b.Loop() {
			rep, err := probe.Run(context.Background(), cfg)
			if err != nil || rep.Outcome != probe.OutcomeConnected {
				b.Fatalf("run: %v %+v", err, rep)
			}
		}
	})

	b.Run("exporter", func(b *testing.B) {
		_, base := startExporter(b, ConnectConfig{Token: staticToken(tok)}, Options{})
		u := base + probePath(ws)
		client := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
