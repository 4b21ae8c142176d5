package exporter

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
)

// ConnectConfig configures the connect module: one pkg/probe run per scrape.
type ConnectConfig struct {
	// Token returns a fresh token; it is called at the start of every probe
	// (and again if the run needs another). Without it, Modules turns the
	// connect module off.
	Token func(ctx context.Context) (string, error)
	// Secret is the API Key secret, if known: a rejected token's signature
	// is then checked, which the probe's log tells.
	Secret []byte
	// Hold keeps each connection up this long before disconnecting cleanly.
	// Pings are only sent while holding, so ping RTT needs Hold > PingInterval.
	Hold time.Duration
	// PingInterval sends WebSocket pings while connected (zero: none).
	PingInterval time.Duration
	// Version goes into init's metadata.
	Version string
	// Network is the dialer every probe goes through: proxies, extra roots,
	// resolve and connect-to rules, address family (package netpath). Nil:
	// pkg/probe's default, which follows the environment's proxy variables.
	Network *netpath.Dialer
	// TLSConfig, when Network is nil, gives this machine's roots (RootCAs)
	// for wss:// targets; nil means the system's.
	TLSConfig *tls.Config
	// Now is the wall clock for judging tokens and certificates (default time.Now).
	Now func() time.Time

	// tune lets tests adjust the probe's configuration.
	tune func(*probe.Config)
}

// The outcomes of the connect module: pkg/probe's five, and no token.
var connectOutcomes = []string{
	string(probe.OutcomeConnected), string(probe.OutcomeDenied), string(probe.OutcomeDisconnected),
	string(probe.OutcomeTimeout), string(probe.OutcomeUnreachable),
}

// Connect is the connect module: it opens one Twilsock connection to the
// target as the Conversations SDK would, with a fresh token, holds it for
// Hold and disconnects, without reconnecting (the next scrape is the next
// try). It succeeds when the outcome is connected.
func Connect(c ConnectConfig) Module {
	return Module{
		Probe:    c.probe,
		Outcomes: append(append([]string{}, connectOutcomes...), OutcomeTokenError),
	}
}

// connectMetrics are the connect module's gauges, as docs/prometheus.md lists them.
type connectMetrics struct {
	phase        *prometheus.GaugeVec
	outcome      *prometheus.GaugeVec
	httpStatus   prometheus.Gauge
	twilioError  prometheus.Gauge
	tokenExpiry  prometheus.Gauge
	certExpiry   prometheus.Gauge
	intercepted  prometheus.Gauge
	pingRTT      prometheus.Gauge
	clockSkew    prometheus.Gauge
	tokenFetchOK prometheus.Gauge
	tokenFetch   prometheus.Gauge
}

func newConnectMetrics() *connectMetrics {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &connectMetrics{
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_probe_phase_duration_seconds",
			Help: "Duration of each phase of the connection attempt (connect's timing_ms keys); a phase that did not happen is absent."},
			[]string{"phase"}),
		outcome: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "convctl_probe_outcome",
			Help: "1 for the probe's outcome (connected, denied, disconnected, timeout, unreachable), 0 for the others; all 0 when no token could be had."},
			[]string{"outcome"}),
		httpStatus:  g("convctl_probe_http_status", "HTTP status of the failure's cause (401 on a rejected token, 503 on a refused upgrade); 0 when none."),
		twilioError: g("convctl_probe_twilio_error", "Twilio error code of the failure's cause (20104 expired, 20107 bad signature); 0 when none."),
		tokenExpiry: g("convctl_token_expiry_seconds", "Seconds from the probe to the exp of the token it connected with; negative once past."),
		certExpiry:  g("convctl_tls_cert_expiry_seconds", "Seconds from the probe to the notAfter of the server's leaf certificate; negative once past."),
		intercepted: g("convctl_tls_intercepted", "1 when the server's certificate chain is not the public one (TLS inspection), else 0."),
		pingRTT:     g("convctl_probe_ping_rtt_seconds", "Mean WebSocket ping round trip while connected."),
		clockSkew:   g("convctl_probe_clock_skew_seconds", "This machine's clock minus the server's Date header."),
		tokenFetchOK: g("convctl_token_fetch_success",
			"1 when the token source gave a token for this probe, 0 when it failed."),
		tokenFetch: g("convctl_token_fetch_duration_seconds", "How long the token source took to give (or fail to give) this probe's token."),
	}
}

func (m *connectMetrics) register(reg prometheus.Registerer, cs ...prometheus.Collector) {
	for _, c := range cs {
		reg.MustRegister(c)
	}
}

// tokenFetch times the probe's first token fetch and keeps its error.
type tokenFetch struct {
	fetches int
	took    time.Duration
	err     error
}

func (f *tokenFetch) wrap(src func(context.Context) (string, error)) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		f.fetches++
		t0 := time.Now()
		tok, err := src(ctx)
		if f.fetches == 1 {
			f.took, f.err = time.Since(t0), err
		}
		return tok, err
	}
}

func (c ConnectConfig) probe(ctx context.Context, t Target, reg prometheus.Registerer, log *slog.Logger) Result {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	timeout := DefaultTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	var fetch tokenFetch
	if c.Token == nil {
		c.Token = func(context.Context) (string, error) { return "", errors.New("no token source configured") }
	}
	cfg := probe.Config{
		URL:          t.URL,
		Token:        fetch.wrap(c.Token),
		Secret:       c.Secret,
		Timeout:      max(timeout, time.Millisecond),
		Hold:         c.Hold,
		PingInterval: c.PingInterval,
		NoReconnect:  true,
		Version:      c.Version,
		Logger:       log,
		Now:          now,
		TLSConfig:    c.TLSConfig,
		Network:      c.Network,
	}
	if c.tune != nil {
		c.tune(&cfg)
	}
	rep, err := probe.Run(cancelOnly(ctx), cfg)

	m := newConnectMetrics()
	m.register(reg, m.outcome, m.httpStatus, m.twilioError)
	for _, o := range connectOutcomes {
		m.outcome.WithLabelValues(o)
	}
	if fetch.fetches > 0 {
		m.register(reg, m.tokenFetchOK, m.tokenFetch)
		m.tokenFetch.Set(fetch.took.Seconds())
		if fetch.err == nil {
			m.tokenFetchOK.Set(1)
		}
	}
	if err != nil {
		interrupted := errors.Is(ctx.Err(), context.Canceled)
		if fetch.err != nil {
			log.Error("the token source failed; the target was not tried", "err", fetch.err)
		} else {
			log.Error("the probe did not start", "err", err)
		}
		return Result{Outcome: OutcomeTokenError, Interrupted: interrupted}
	}

	m.outcome.WithLabelValues(string(rep.Outcome)).Set(1)
	if cause := rep.Cause; cause != nil {
		if cause.HTTPStatus != nil {
			m.httpStatus.Set(float64(*cause.HTTPStatus))
		}
		if cause.TwilioError != nil {
			m.twilioError.Set(float64(*cause.TwilioError))
		}
	}
	m.register(reg, m.phase)
	for phase, v := range phases(rep.Timing) {
		m.phase.WithLabelValues(phase).Set(msToSeconds(v))
	}
	at := now()
	if rep.Token != nil && rep.Token.ExpiresAt != nil {
		m.register(reg, m.tokenExpiry)
		m.tokenExpiry.Set(rep.Token.ExpiresAt.Sub(at).Seconds())
	}
	facts := tlsFactsOf(rep)
	if facts.leafNotAfter != nil {
		m.register(reg, m.certExpiry)
		m.certExpiry.Set(facts.leafNotAfter.Sub(at).Seconds())
	}
	if facts.intercepted != nil {
		m.register(reg, m.intercepted)
		if *facts.intercepted {
			m.intercepted.Set(1)
		}
	}
	if n := len(rep.PingsMS); n > 0 {
		var sum float64
		for _, p := range rep.PingsMS {
			sum += p
		}
		m.register(reg, m.pingRTT)
		m.pingRTT.Set(msToSeconds(sum / float64(n)))
	}
	if rep.ClockSkewSeconds != nil {
		m.register(reg, m.clockSkew)
		m.clockSkew.Set(*rep.ClockSkewSeconds)
	}
	attrs := []any{"outcome", rep.Outcome}
	if rep.Cause != nil {
		attrs = append(attrs, "cause", rep.Cause.Kind, "message", rep.Cause.Message)
		if rep.Cause.Hint != "" {
			attrs = append(attrs, "hint", rep.Cause.Hint)
		}
	}
	debuglog.Component(log, "connect").Info("finished", attrs...)
	return Result{
		Success:     rep.Outcome == probe.OutcomeConnected,
		Outcome:     string(rep.Outcome),
		Interrupted: rep.Interrupted || errors.Is(ctx.Err(), context.Canceled),
	}
}

// msToSeconds converts the report's milliseconds (microsecond precision)
// without the float noise of dividing by 1000.
func msToSeconds(v float64) float64 {
	return time.Duration(math.Round(v * float64(time.Millisecond))).Seconds()
}

// cancelOnly returns a context that ends when ctx is cancelled but not at
// ctx's deadline. The probe bounds itself with the same deadline (its
// Timeout) and reports a timeout as such; were the deadline also its
// parent's, it could take the timeout for an interruption.
func cancelOnly(ctx context.Context) context.Context {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			cancel()
		}
	})
	return out
}

// phases reads the report's timing_ms by the names its JSON tags give, so a
// phase the probe learns to time (the proxy's, once the network path lands)
// becomes a label without a change here. Phases that did not happen (nil)
// are left out.
func phases(t probe.Timing) map[string]float64 {
	v := reflect.ValueOf(t)
	out := make(map[string]float64, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		p, ok := f.Interface().(*float64)
		if !ok || p == nil {
			continue
		}
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = *p
		}
	}
	return out
}

// tlsFacts is what a probe learned of the server's certificate.
type tlsFacts struct {
	leafNotAfter *time.Time
	intercepted  *bool // nil: no chain to judge
}

// tlsFactsOf reads the TLS facts of the network path the reported attempt
// took: the leaf certificate as presented (verified or not, so an expired
// certificate still shows how long ago it expired) and netpath's
// interception verdict. Nothing on ws://, or when no chain came.
func tlsFactsOf(rep *probe.Report) tlsFacts {
	if rep.Network == nil || rep.Network.TLS == nil || len(rep.Network.TLS.Chain) == 0 {
		return tlsFacts{}
	}
	t := rep.Network.TLS
	na := t.Chain[0].NotAfter
	icp := t.InterceptedBy != nil
	return tlsFacts{leafNotAfter: &na, intercepted: &icp}
}
