// Command gen-docs writes docs/commands (Markdown) and docs/man (man pages)
// from convctl's command tree, so the reference can never say something
// --help does not. It is for the project, not its users, so it is its own
// program and nothing of it ships in convctl. main_test.go fails when the
// committed pages drift from what this writes.
//
//	go run ./cmd/gen-docs --dir docs
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/convctl/convctl/internal/cli"
)

func main() {
	dir := flag.String("dir", "docs", "write into `DIR`/commands and DIR/man")
	flag.Parse()
	if err := writeDocs(newRoot(), *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen-docs:", err)
		os.Exit(1)
	}
}

// newRoot builds the command tree as a user with no environment would see it.
func newRoot() *cobra.Command {
	io, _, _, _ := cli.TestIO()
	return cli.NewCmdRoot(cli.NewFactory(io, func(string) string { return "" }))
}

// docsEpoch dates the man pages; a fixed date keeps the output reproducible.
var docsEpoch = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func writeDocs(root *cobra.Command, dir string) error {
	root.DisableAutoGenTag = true
	// cobra adds its completion command only when executing; add it now so the
	// reference is the same whatever runs this.
	root.InitDefaultCompletionCmd()
	md := filepath.Join(dir, "commands")
	man := filepath.Join(dir, "man")
	for _, d := range []string{md, man} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("cannot create %s: %v", d, err)
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
