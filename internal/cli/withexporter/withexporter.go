// Package withexporter is the convctl command tree with the Prometheus
// exporter linked in: the program of cmd/convctl-exporter, which
// `convctl exporter` runs. It is its own package because the cli package
// must not import pkg/exporter (whose client library would slow every
// convctl start), while cmd/convctl-exporter and the cli package's tests
// both need the one wiring below.
package withexporter

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/convctl/convctl/internal/cli"
	"github.com/convctl/convctl/pkg/exporter"
	"github.com/convctl/convctl/pkg/netpath"
)

// Program is convctl with `convctl exporter` served in this process.
var Program = cli.Program{Exporter: Handler}

// Handler is pkg/exporter's handler with both modules, configured from
// `convctl exporter`'s flags.
func Handler(o *cli.ExporterOptions, network *netpath.Dialer, log *slog.Logger) (http.Handler, error) {
	var token func(context.Context) (string, error) // none: module=connect is off
	if o.Source != nil {
		token = o.Source.Fetch
	}
	return exporter.New(exporter.Options{
		Modules: exporter.Modules(exporter.ModuleConfig{
			Connect: exporter.ConnectConfig{
				Token:        token,
				Secret:       o.Secret,
				Hold:         o.Hold,
				PingInterval: o.Ping,
				Version:      o.Version,
				Network:      network,
			},
			Netcheck: exporter.NetcheckConfig{Net: o.Net},
		}),
		Logger:  log,
		History: o.History,
	})
}
