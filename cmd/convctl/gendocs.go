package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newCmdGenDocs writes docs/commands (Markdown) and docs/man (man pages) from
// the command tree, so the reference can never say something --help does not.
// Hidden: it is for the project, not its users. docs_test.go fails when the
// committed pages drift from what this writes.
func newCmdGenDocs(root *cobra.Command) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:    "gen-docs",
		Short:  "Write the command reference (Markdown and man pages)",
		Hidden: true,
		Args:   noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeDocs(root, dir)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "docs", "write into `DIR`/commands and DIR/man")
	return cmd
}

// docsEpoch dates the man pages; a fixed date keeps the output reproducible.
var docsEpoch = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func writeDocs(root *cobra.Command, dir string) error {
	root.DisableAutoGenTag = true
	// cobra adds its completion command only when executing; add it now so the
	// reference is the same whether written by the command or by the test.
	root.InitDefaultCompletionCmd()
	md := filepath.Join(dir, "commands")
	man := filepath.Join(dir, "man")
	for _, d := range []string{md, man} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return usageErrorf("cannot create %s: %v", d, err)
		}
	}
	if err := doc.GenMarkdownTree(root, md); err != nil {
		return fmt.Errorf("writing Markdown reference: %w", err)
	}
	hdr := &doc.GenManHeader{Title: "CONVCTL", Section: "1", Source: "convctl", Manual: "convctl manual", Date: &docsEpoch}
	if err := doc.GenManTree(root, hdr, man); err != nil {
		return fmt.Errorf("writing man pages: %w", err)
	}
	return nil
}
