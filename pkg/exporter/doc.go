// Package exporter is a Prometheus exporter for Twilio reachability, in the
// style of blackbox_exporter: Prometheus asks /probe?target=…&module=… on
// every scrape, the exporter runs that one probe within the scrape's timeout
// and answers its result as metrics, so Prometheus does the scheduling,
// storage, alerting and federation.
//
// A Handler is an http.Handler serving
//
//	GET /probe?target=us1|ie1|wss://…&module=connect[&debug=true]
//	GET /metrics      the exporter's own metrics (Go, process, probes by module and outcome)
//	GET /             the last probes, with links to their logs
//	GET /logs/{id}    one recent probe's log and the metrics it answered
//
// Modules are a table (Options.Modules) from a name to a Module, whose
// ProbeFunc does the work: it gets a context bounded by the scrape timeout,
// the parsed Target, a fresh prometheus.Registry of its own and a logger
// whose lines become the probe's log. The handler adds the metrics every
// probe has (convctl_probe_success, convctl_probe_duration_seconds), times
// the probe and renders the registry. Connect is the `connect` module (one
// pkg/probe run, one attempt, through a shared pkg/netpath dialer); Netcheck
// is the `netcheck` module (every endpoint of the region, pkg/netcheck).
// Another kind of probe is one more entry in the table (see Modules).
//
// Metric names and meanings are a contract, documented in
// docs/prometheus.md; a metric whose fact the probe did not learn (a phase that did
// not happen, a certificate on ws://) is absent rather than zero, except
// convctl_probe_http_status and convctl_probe_twilio_error, which are 0 when
// there was no cause.
//
// Concurrency: a Handler serves any number of probes at once; each has its
// own registry, logger and context, and they share nothing but the probe
// counter and the history of recent probes, both safe for concurrent use.
// The package never prints: it logs to the *slog.Logger it is given.
package exporter
