// Command convctl diagnoses Twilio Conversations client connections: it
// inspects Access Tokens, walks a real Twilsock connection through every client
// state, runs a local Twilsock server with fault injection, and checks all of
// it in CI. The command tree lives in internal/cli. `convctl exporter` runs
// cmd/convctl-exporter, which links the Prometheus exporter this binary leaves
// out to start fast.
package main

import (
	"os"

	"github.com/convctl/convctl/internal/cli"
)

func main() { os.Exit(cli.Main(cli.Program{})) }
