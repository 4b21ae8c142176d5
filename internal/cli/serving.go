package cli

// What the long-running commands (serve, exporter) share: their stderr log
// and the address they print.

import (
	"log/slog"
	"net"
	"strings"

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

// reachableAddr is the address a long-running command prints for its
// listener addr: one listening on every interface is reached on loopback
// from this machine. requested (the HOST:PORT the user gave) picks the
// family: Go listens on "0.0.0.0" and ":4567" with one dual-stack socket
// whose address reads [::], and those users expect 127.0.0.1; "[::]" gets ::1.
func reachableAddr(requested string, addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if h, _, err := net.SplitHostPort(requested); err == nil && strings.Contains(h, ":") {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}
