package exporter

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netcheck"
	"github.com/convctl/convctl/pkg/netpath"
)

// NetcheckConfig configures the netcheck module.
type NetcheckConfig struct {
	// Net is how connections find their way (proxy, extra roots, resolve
	// and connect-to rules, address family).
	Net netpath.Config
	// Now is the clock certificates are judged by (default time.Now).
	Now func() time.Time
}

// Outcomes of the netcheck module.
const (
	OutcomeOK     = "ok"     // every required endpoint answered
	OutcomeFailed = "failed" // at least one required endpoint did not
)

// Netcheck is the netcheck module: every endpoint a Conversations client of
// the target's region needs (pkg/netcheck), checked at once the way a client
// here reaches it. It succeeds when every required endpoint answers. Its
// target must name a region: us1, or a Twilio Twilsock URL.
func Netcheck(c NetcheckConfig) Module {
	return Module{
		Probe:    c.probe,
		Outcomes: []string{OutcomeOK, OutcomeFailed},
		Check: func(t Target) error {
			if t.Region == "" {
				return errors.New("netcheck checks a Twilio region's endpoints: give a region such as us1, or wss://tsock.<region>.twilio.com/v3/wsconnect")
			}
			return nil
		},
	}
}

func (c NetcheckConfig) probe(ctx context.Context, t Target, reg prometheus.Registerer, log *slog.Logger) Result {
	labels := []string{"host", "protocol"}
	up := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_endpoint_up",
		Help: "1 when the endpoint answered as a client needs (tsock: WebSocket upgrade 101; HTTPS: any HTTP answer), else 0."}, labels)
	required := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_endpoint_required",
		Help: "1 when a Conversations client cannot work without the endpoint, 0 when it is informative only."}, labels)
	status := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_endpoint_http_status",
		Help: "The endpoint's HTTP answer to the application step (101 for the WebSocket upgrade); 0 when none came."}, labels)
	phase := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_endpoint_phase_duration_seconds",
		Help: "Duration of each phase of the endpoint's check (dns, proxy, tcp, tls, app); a phase that did not happen is absent."},
		[]string{"host", "protocol", "phase"})
	certExpiry := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_tls_cert_expiry_seconds",
		Help: "Seconds from the probe to the notAfter of the endpoint's leaf certificate; negative once past."}, []string{"host"})
	intercepted := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_tls_intercepted",
		Help: "1 when the endpoint's certificate chain is not the public one (TLS inspection), else 0."}, []string{"host"})
	reg.MustRegister(up, required, status, phase, certExpiry, intercepted)

	now := c.Now
	if now == nil {
		now = time.Now
	}
	timeout := DefaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	rep := netcheck.Run(ctx, netcheck.Config{
		Region:  t.Region,
		Net:     c.Net,
		Timeout: max(timeout, time.Millisecond),
		Logger:  log,
		Now:     now,
	})
	at := now()
	clog := debuglog.Component(log, "netcheck")
	for _, e := range rep.Endpoints {
		l := []string{e.Host, e.Protocol}
		up.WithLabelValues(l...).Set(b2f(e.OK))
		required.WithLabelValues(l...).Set(b2f(e.Required))
		st := 0
		if e.HTTPStatus != nil {
			st = *e.HTTPStatus
		}
		status.WithLabelValues(l...).Set(float64(st))
		for _, p := range netcheck.Phases {
			if v := e.Timing.Get(p); v != nil {
				phase.WithLabelValues(e.Host, e.Protocol, p).Set(msToSeconds(*v))
			}
		}
		if !e.CertNotAfter.IsZero() {
			certExpiry.WithLabelValues(e.Host).Set(e.CertNotAfter.Sub(at).Seconds())
		}
		if e.TLS != nil && e.TLS.Version != "" {
			intercepted.WithLabelValues(e.Host).Set(b2f(e.TLS.InterceptedBy != nil))
		}
		attrs := []any{"host", e.Host, "protocol", e.Protocol, "required", e.Required, "ok", e.OK, "http_status", st}
		if e.Error != nil {
			attrs = append(attrs, "phase", e.Phase, "kind", e.Kind, "error", *e.Error)
		}
		if e.Hint != nil {
			attrs = append(attrs, "hint", *e.Hint)
		}
		clog.Info("endpoint", attrs...)
	}
	for _, w := range rep.Warnings {
		clog.Warn(w.Message, "code", w.Code, "host", w.Host, "hint", w.Hint)
	}
	outcome := OutcomeFailed
	if rep.OK {
		outcome = OutcomeOK
	}
	clog.Info("finished", "region", rep.Region, "ok", rep.OK)
	return Result{Success: rep.OK, Outcome: outcome, Interrupted: errors.Is(ctx.Err(), context.Canceled)}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
