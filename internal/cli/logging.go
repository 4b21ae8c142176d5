package cli

import (
	"log/slog"

	"github.com/convctl/convctl/pkg/debuglog"
)

// serverLogger is the stderr log of a long-running command (serve,
// exporter): info and up, or everything with --debug; text, or JSON lines
// with --log-format json; color only on a terminal.
func serverLogger(io *IOStreams, debug, jsonLines bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	form := debuglog.FormatText
	if jsonLines {
		form = debuglog.FormatJSON
	}
	return debuglog.New(io.ErrOut, debuglog.Options{Level: level, Format: form, Color: io.ErrColorEnabled()})
}
