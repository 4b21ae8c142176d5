package exporter

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// A ProbeFunc runs one probe of target. ctx carries the deadline the scrape
// allows; the function must return by then. It registers the metrics it
// learned in reg (a registry of this probe's own, so names never clash with
// another probe's) and logs what it does to logger, whose lines are the
// probe's log (/probe?debug=true, /logs/{id}).
type ProbeFunc func(ctx context.Context, target Target, reg prometheus.Registerer, logger *slog.Logger) Result

// Result is a probe's verdict.
type Result struct {
	// Success is convctl_probe_success.
	Success bool
	// Outcome labels convctl_exporter_probes_total and the history; it is
	// one of the Module's Outcomes.
	Outcome string
	// Interrupted means ctx was cancelled before its deadline (the exporter
	// is stopping, or Prometheus gave up on the scrape): what was measured
	// is not a verdict on the target.
	Interrupted bool
}

// Module is one kind of probe /probe can run.
type Module struct {
	Probe ProbeFunc
	// Outcomes is every Result.Outcome Probe can return, so the probe
	// counter has a series for each from the start (rate() needs them).
	Outcomes []string
	// Check rejects a target this module cannot probe; its error, one
	// line, is the reason in the 400 answer. Nil accepts every target.
	Check func(Target) error
	// Off, when set, says why this module cannot run in this exporter
	// (Probe is then unused): /probe answers 400 with it, so a scrape of
	// it fails visibly while the other modules work.
	Off string
}

// OutcomeTokenError is the outcome of a probe that could not get a token to
// connect with, so never tried the target.
const OutcomeTokenError = "token_error"

// outcomeInterrupted labels a probe that was cancelled, in the history only.
const outcomeInterrupted = "interrupted"

// ModuleConfig is what the modules need from the exporter's configuration.
type ModuleConfig struct {
	Connect  ConnectConfig
	Netcheck NetcheckConfig
}

// Modules is the module table of `convctl exporter`: a new kind of probe is
// one more entry, a name and a Module. Without a token source (Connect.Token
// nil) the connect module is off and netcheck, which needs none, still works.
func Modules(c ModuleConfig) map[string]Module {
	connect := Connect(c.Connect)
	if c.Connect.Token == nil {
		connect = Module{Off: "this exporter has no token source to connect with"}
	}
	return map[string]Module{
		"connect":  connect,
		"netcheck": Netcheck(c.Netcheck),
	}
}
