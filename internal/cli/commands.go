package cli

import "github.com/spf13/cobra"

// commandSet lists the top-level commands in the order --help shows them.
func commandSet(f *Factory) []*cobra.Command {
	return []*cobra.Command{
		newCmdDemo(f),
		newCmdToken(f),
		newCmdConnect(f),
		newCmdServe(f),
		newCmdCheck(f),
		newCmdExporter(f),
	}
}
