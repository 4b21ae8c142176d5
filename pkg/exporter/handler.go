package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/convctl/convctl/pkg/debuglog"
)

// Defaults of Options.
const (
	// DefaultTimeout bounds a probe when the scrape names no timeout.
	DefaultTimeout = 10 * time.Second
	// DefaultTimeoutMargin is taken off the scrape's timeout, so the answer
	// reaches Prometheus before it gives up on the scrape.
	DefaultTimeoutMargin = 500 * time.Millisecond
	// DefaultHistory is how many recent probes / lists and keeps logs of.
	DefaultHistory = 100
	// DefaultModule is the module of a /probe without module=.
	DefaultModule = "connect"
)

// timeoutHeader is where Prometheus says how long it waits for a scrape.
const timeoutHeader = "X-Prometheus-Scrape-Timeout-Seconds"

// maxLogBytes bounds one probe's kept log; a probe's log is a few KiB.
const maxLogBytes = 256 << 10

// Options configures a Handler.
type Options struct {
	// Modules maps module names to modules (see Modules). Required.
	Modules map[string]Module
	// Logger gets a line per probe and the exporter's own errors (nil: none).
	Logger *slog.Logger
	// DefaultTimeout bounds a probe without the scrape timeout header (default 10 s).
	DefaultTimeout time.Duration
	// TimeoutMargin is taken off the scrape timeout header (default 0.5 s).
	TimeoutMargin time.Duration
	// History is how many recent probes to keep (default 100).
	History int
	// Now is the wall clock of the history (default time.Now).
	Now func() time.Time
}

// Handler serves /probe, /metrics, / and /logs/{id}; see the package doc.
type Handler struct {
	mux      *http.ServeMux
	modules  map[string]Module
	names    []string // sorted module names, for messages
	log      *slog.Logger
	timeout  time.Duration
	margin   time.Duration
	now      func() time.Time
	history  *history
	registry *prometheus.Registry
	probes   *prometheus.CounterVec
	inFlight prometheus.Gauge
}

// New returns a Handler. It fails only on Options it cannot use.
func New(o Options) (*Handler, error) {
	if len(o.Modules) == 0 {
		return nil, errors.New("exporter: no modules")
	}
	if o.DefaultTimeout < 0 || o.TimeoutMargin < 0 || o.History < 0 {
		return nil, errors.New("exporter: negative timeout, margin or history")
	}
	h := &Handler{
		mux:     http.NewServeMux(),
		modules: o.Modules,
		log:     o.Logger,
		timeout: o.DefaultTimeout,
		margin:  o.TimeoutMargin,
		now:     o.Now,
	}
	for name, m := range o.Modules {
		if m.Probe == nil && m.Off == "" {
			return nil, fmt.Errorf("exporter: module %q has no probe function", name)
		}
		h.names = append(h.names, name)
	}
	slices.Sort(h.names)
	if h.log == nil {
		h.log = debuglog.Discard()
	}
	if h.timeout == 0 {
		h.timeout = DefaultTimeout
	}
	if h.margin == 0 {
		h.margin = DefaultTimeoutMargin
	}
	if h.now == nil {
		h.now = time.Now
	}
	n := o.History
	if n == 0 {
		n = DefaultHistory
	}
	h.history = newHistory(n)

	h.probes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "convctl_exporter_probes_total",
		Help: "Probes run by this exporter, by module and outcome.",
	}, []string{"module", "outcome"})
	h.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "convctl_exporter_probes_in_flight",
		Help: "Probes running now.",
	})
	for _, name := range h.names {
		for _, o := range o.Modules[name].Outcomes {
			h.probes.WithLabelValues(name, o)
		}
	}
	h.registry = prometheus.NewRegistry()
	h.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		h.probes, h.inFlight,
	)

	h.mux.HandleFunc("GET /probe", h.serveProbe)
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(h.registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelError),
	}))
	h.mux.HandleFunc("GET /logs/{id}", h.serveLog)
	h.mux.HandleFunc("GET /{$}", h.serveIndex)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// badRequest answers 400 with one line naming the parameter.
func badRequest(w http.ResponseWriter, param string, err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	http.Error(w, param+": "+msg, http.StatusBadRequest)
}

// probeTimeout is how long a probe may take: the scrape's timeout less the
// margin, or the default without the header. A timeout no larger than the
// margin keeps half of itself.
func (h *Handler) probeTimeout(r *http.Request) (time.Duration, error) {
	v := r.Header.Get(timeoutHeader)
	if v == "" {
		return h.timeout, nil
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || secs <= 0 || secs > 24*3600 || secs != secs {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	d := time.Duration(secs * float64(time.Second))
	if d < time.Millisecond {
		return 0, fmt.Errorf("%q seconds is too short for a probe", v)
	}
	if d > h.margin {
		return d - h.margin, nil
	}
	return d / 2, nil
}

func (h *Handler) serveProbe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	name := q.Get("module")
	if name == "" {
		name = DefaultModule
	}
	mod, ok := h.modules[name]
	if !ok {
		badRequest(w, "module", fmt.Errorf("unknown module %q (known: %s)", name, strings.Join(h.names, ", ")))
		return
	}
	if mod.Off != "" {
		badRequest(w, "module", fmt.Errorf("module %q is off: %s", name, mod.Off))
		return
	}
	target, err := ParseTarget(q.Get("target"))
	if err == nil && mod.Check != nil {
		err = mod.Check(target)
	}
	if err != nil {
		badRequest(w, "target", err)
		return
	}
	debug := false
	switch q.Get("debug") {
	case "", "false":
	case "true":
		debug = true
	default:
		badRequest(w, "debug", fmt.Errorf("%q: want true or false", q.Get("debug")))
		return
	}
	timeout, err := h.probeTimeout(r)
	if err != nil {
		badRequest(w, timeoutHeader, err)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	var logBuf bytes.Buffer
	start := time.Now()
	plog := debuglog.New(&cappedWriter{w: &logBuf, n: maxLogBytes}, debuglog.Options{Level: slog.LevelDebug, Start: start})
	elog := debuglog.Component(plog, "exporter")
	elog.Info("probe", "module", name, "target", target.Raw, "url", target.URL, "timeout", timeout)

	h.inFlight.Inc()
	reg := prometheus.NewRegistry()
	res := mod.Probe(ctx, target, reg, plog)
	took := time.Since(start)
	h.inFlight.Dec()

	success := prometheus.NewGauge(prometheus.GaugeOpts{Name: "convctl_probe_success",
		Help: "1 when the probe succeeded (connect: the outcome is connected), else 0."})
	duration := prometheus.NewGauge(prometheus.GaugeOpts{Name: "convctl_probe_duration_seconds",
		Help: "How long the probe took, token fetch included."})
	reg.MustRegister(success, duration)
	if res.Success {
		success.Set(1)
	}
	duration.Set(took.Seconds())

	outcome := res.Outcome
	if res.Interrupted {
		outcome = outcomeInterrupted
	}
	elog.Info("probe done", "outcome", outcome, "success", res.Success, "duration", took)
	id := h.history.add(entry{
		At: h.now(), Target: target.Raw, Module: name, Outcome: outcome, Success: res.Success,
		Duration: took, Log: logBuf.String(), Metrics: reg,
	})
	attrs := []any{"id", id, "module", name, "target", target.Raw, "outcome", outcome, "duration", took}
	switch {
	case res.Interrupted:
		h.log.Info("probe interrupted", attrs...)
		http.Error(w, "probe interrupted: the exporter is stopping or the scrape was cancelled", http.StatusServiceUnavailable)
		return
	case res.Success:
		h.log.Debug("probe", attrs...)
	default:
		h.log.Info("probe failed", attrs...)
	}
	h.probes.WithLabelValues(name, outcome).Inc()

	if debug {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(logBuf.Bytes())
		return
	}
	// A probe's answer is a few KiB: compressing it costs more than it saves.
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:           slog.NewLogLogger(h.log.Handler(), slog.LevelError),
		DisableCompression: true,
	}).ServeHTTP(w, r)
}

// gatherText renders a registry in the text exposition format, for the log page.
func gatherText(g prometheus.Gatherer) (string, error) {
	mfs, err := g.Gather()
	var b strings.Builder
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if e := enc.Encode(mf); e != nil && err == nil {
			err = e
		}
	}
	return b.String(), err
}

// cappedWriter keeps the first n bytes written and drops the rest, saying so once.
type cappedWriter struct {
	w       *bytes.Buffer
	n       int
	dropped bool
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if room := c.n - c.w.Len(); room >= len(p) {
		c.w.Write(p)
	} else if !c.dropped {
		c.dropped = true
		c.w.WriteString("… (log truncated)\n")
	}
	return len(p), nil
}
