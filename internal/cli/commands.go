package cli

import "github.com/spf13/cobra"

// commandSet lists the top-level commands in the order --help shows them.
func commandSet(f *Factory) []*cobra.Command {
	return []*cobra.Command{
		NewCmdDemo(f, nil),
		NewCmdToken(f),
		NewCmdConnect(f, nil),
		NewCmdServe(f, nil),
		NewCmdCheck(f, nil),
		NewCmdNetcheck(f, nil),
		NewCmdVersion(f),
	}
}
