// Command convctl-exporter is convctl with the Prometheus exporter linked in.
// `convctl exporter` runs it in its own place, since Prometheus' client
// library would slow every other convctl command's start. Run it as
// `convctl-exporter exporter --listen :9469 --token-url URL`; it takes every
// other convctl command too. The wiring is internal/cli/withexporter.
package main

import (
	"os"

	"github.com/convctl/convctl/internal/cli"
	"github.com/convctl/convctl/internal/cli/withexporter"
)

func main() { os.Exit(cli.Main(withexporter.Program)) }
