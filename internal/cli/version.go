package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/spf13/cobra"
)

// version is set at build time with
// -ldflags "-X github.com/convctl/convctl/internal/cli.version=…";
// otherwise it comes from the module's build info.
var version = ""

// buildInfo is what the binary knows of its own build.
type buildInfo struct {
	Version  string // v1.2.3, or "dev" for a build outside a module release
	Revision string // VCS commit, "" when unknown
	Time     string // VCS commit time, RFC 3339
	Modified bool   // built from a work tree with uncommitted changes
	Go       string
}

// readBuildInfo parses the binary's build info once.
var readBuildInfo = sync.OnceValue(parseBuildInfo)

func parseBuildInfo() buildInfo {
	b := buildInfo{Version: version, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func buildVersion() string { return readBuildInfo().Version }

// versionText is what `convctl version` and `convctl --version` print:
// "convctl v1.2.3 (abc1234def56, 2026-11-29T18:00:00Z, modified) go1.26".
func versionText(b buildInfo) string {
	var vcs []string
	if b.Revision != "" {
		vcs = append(vcs, b.Revision[:min(12, len(b.Revision))])
	}
	if b.Time != "" {
		vcs = append(vcs, b.Time)
	}
	if b.Modified {
		vcs = append(vcs, "modified")
	}
	s := "convctl " + b.Version
	if len(vcs) > 0 {
		s += " (" + strings.Join(vcs, ", ") + ")"
	}
	return s + " " + b.Go + "\n"
}

// NewCmdVersion builds `convctl version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, the commit it was built from and the Go version",
		Long: `Print convctl's module version, the VCS revision and commit time it was built
from (and "modified" when the work tree had uncommitted changes), and the Go
version. convctl --version prints the same line.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(f.IO.Out, versionText(readBuildInfo()))
			return err
		},
	}
	markQuick(cmd)
	return cmd
}
