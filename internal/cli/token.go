package cli

import "github.com/spf13/cobra"

// NewCmdToken builds `convctl token` and its subcommands.
func NewCmdToken(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <command>",
		Short: "Inspect and mint Twilio Access Tokens",
		Long: `Inspect an Access Token the way Twilio judges it, naming the error Twilio
would answer and how to fix it; or mint a token as Twilio's helper libraries do.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdTokenInspect(f, nil), NewCmdTokenMint(f, nil))
	return cmd
}
