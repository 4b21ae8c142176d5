package cli

import "github.com/spf13/cobra"

// NewCmdToken builds `convctl token` and its subcommands.
func NewCmdToken(f *Factory) *cobra.Command { return newCmdTokenFor(f, "") }

// newCmdTokenFor builds `token` with only the subcommand sub when it names
// one (newCmdRootFor), otherwise with both.
func newCmdTokenFor(f *Factory, sub string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <command>",
		Short: "Inspect and mint Twilio Access Tokens",
		Long: `Inspect an Access Token the way Twilio judges it, naming the error Twilio
would answer and how to fix it; or mint a token as Twilio's helper libraries do.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	switch sub {
	case "inspect":
		cmd.AddCommand(NewCmdTokenInspect(f, nil))
	case "mint":
		cmd.AddCommand(NewCmdTokenMint(f, nil))
	default:
		cmd.AddCommand(NewCmdTokenInspect(f, nil), NewCmdTokenMint(f, nil))
	}
	return cmd
}
