package main

import "github.com/spf13/cobra"

// PLACEHOLDER: the engineer who owns this command replaces this file.
func newCmdToken(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "token", Short: "(not built yet)", Hidden: true}
}
