package exporter

import (
	"context"
	"io"
	"net/http"
	"slices"
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

	// The floor under "exporter": the same client and server answering a
	// request with no probe (a 404).
	b.Run("http-floor", func(b *testing.B) {
		_, base := startExporter(b, ConnectConfig{Token: staticToken(tok)}, Options{})
		client := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			resp, err := client.Get(base + "/nothing")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
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

// BenchmarkProbeOverhead alternates a bare probe.Run and a /probe scrape of
// the same target, timing each, so load from elsewhere on the machine hits
// both alike; it reports the median of each and their ratio. "loopback" is
// the emulator answering at once (the exporter's cost against the least a
// connect can take); "init-20ms" has the server take 20 ms to answer init,
// still far quicker than Twilio seen from most places.
func BenchmarkProbeOverhead(b *testing.B) {
	for _, bc := range []struct {
		name  string
		delay time.Duration
	}{{"loopback", 0}, {"init-20ms", 20 * time.Millisecond}} {
		b.Run(bc.name, func(b *testing.B) {
			ws := startEmulator(b, emulator.Config{InitDelay: bc.delay})
			tok := mint(b, testSecret, time.Now())
			cfg := probe.Config{URL: ws, Token: staticToken(tok), Timeout: 10 * time.Second, NoReconnect: true}
			fastTune(&cfg)
			_, base := startExporter(b, ConnectConfig{Token: staticToken(tok)}, Options{})
			u := base + probePath(ws)
			client := &http.Client{}
			var runs, scrapes []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if rep, err := probe.Run(context.Background(), cfg); err != nil || rep.Outcome != probe.OutcomeConnected {
					b.Fatalf("run: %v %+v", err, rep)
				}
				t1 := time.Now()
				resp, err := client.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				runs, scrapes = append(runs, t1.Sub(t0)), append(scrapes, time.Since(t1))
			}
			r, s := median(runs), median(scrapes)
			b.ReportMetric(float64(r.Nanoseconds()), "run-ns")
			b.ReportMetric(float64(s.Nanoseconds()), "scrape-ns")
			b.ReportMetric(float64(s)/float64(r), "ratio")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
