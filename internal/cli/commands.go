package cli

import "github.com/spf13/cobra"

// commandSet lists the top-level commands in the order --help shows them,
// each with its name, so that a command line can be given just the command
// it runs (newCmdRootFor). build gets the argument after the command's name
// ("" for none), for a command with subcommands to build just that one.
var commandSet = []struct {
	name  string
	build func(f *Factory, sub string) *cobra.Command
}{
	{"demo", func(f *Factory, _ string) *cobra.Command { return NewCmdDemo(f, nil) }},
	{"token", newCmdTokenFor},
	{"connect", func(f *Factory, _ string) *cobra.Command { return NewCmdConnect(f, nil) }},
	{"serve", func(f *Factory, _ string) *cobra.Command { return NewCmdServe(f, nil) }},
	{"check", func(f *Factory, _ string) *cobra.Command { return NewCmdCheck(f, nil) }},
	{"netcheck", func(f *Factory, _ string) *cobra.Command { return NewCmdNetcheck(f, nil) }},
	{"exporter", func(f *Factory, _ string) *cobra.Command { return NewCmdExporter(f, nil) }},
	{"version", func(f *Factory, _ string) *cobra.Command { return NewCmdVersion(f) }},
}
