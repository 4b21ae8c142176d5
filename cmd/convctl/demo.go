package main

import "github.com/spf13/cobra"

// PLACEHOLDER: the engineer who owns this command replaces this file.
func newCmdDemo(f *Factory) *cobra.Command {
	return &cobra.Command{Use: "demo", Short: "(not built yet)", Hidden: true}
}
