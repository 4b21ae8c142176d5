package emulator

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// What the server holds back from hostile or broken clients: a cap on
// connections, a deadline for init (Config), and log lines rate-limited so
// that no client can flood the log.

// Log budgets: how many lines of a kind per window.
const (
	frameLogBurst  = 10 // ignored frames (text, malformed, out of place), all connections together
	frameLogWindow = 10 * time.Second
	// Lines any client can cause without a valid token, by the thousand:
	// failed upgrades, denials, init and read timeouts, grace expiries.
	clientLogBurst = 20
	capLogWindow   = 10 * time.Second // one line per window while upgrades are refused at the cap
)

// DefaultMaxConns is the connection cap when Config.MaxConns is 0: the
// process's open-file limit less a tenth (at least 64) kept for the
// listener, the control API, logs and connections not yet upgraded, so that
// at the cap the server still answers; 10000 where the limit cannot be read.
func DefaultMaxConns() int {
	lim := openFileLimit()
	if lim <= 0 {
		return 10000
	}
	return max(lim-max(lim/10, 64), 1)
}

// admit takes a connection slot; false means the cap is reached.
func (s *Server) admit() bool {
	if s.cfg.MaxConns <= 0 {
		s.slots.Add(1)
		return true
	}
	if s.slots.Add(1) > int64(s.cfg.MaxConns) {
		s.slots.Add(-1)
		return false
	}
	return true
}

func (s *Server) release() { s.slots.Add(-1) }

// refuseAtCap answers an upgrade over the cap with 503, and says so in the
// log once per capLogWindow with the number refused.
func (s *Server) refuseAtCap(w http.ResponseWriter, r *http.Request) {
	s.stats.refused.Add(1)
	n := s.stats.capRefused.Add(1)
	if ok, _ := s.capLog.take(); ok {
		s.log.Warn("connection cap reached: upgrades are answered 503 until connections close",
			"remote", r.RemoteAddr, "max_conns", s.cfg.MaxConns, "refused_so_far", n,
			"hint", "raise the connection cap, and the open-file limit with it, if the clients are legitimate")
	}
	// A refused client must not keep its socket: that is the descriptor the
	// cap is there to save.
	w.Header().Set("Connection", "close")
	w.Header().Set("Retry-After", "5")
	http.Error(w, "convctl emulator: connection limit reached ("+strconv.Itoa(s.cfg.MaxConns)+
		" WebSocket connections open); try again later", http.StatusServiceUnavailable)
}

// Listener wraps ln, the listener the server's http.Server accepts on, so
// that an accept failing because the process is out of file descriptors is
// logged as such (at warn level, once per capLogWindow): net/http only
// retries, silently. Everything else passes through.
func (s *Server) Listener(ln net.Listener) net.Listener { return &watchedListener{Listener: ln, s: s} }

type watchedListener struct {
	net.Listener
	s *Server
}

func (l *watchedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) {
		l.s.fdExhausted(err)
	}
	return c, err
}

func (s *Server) fdExhausted(err error) {
	ok, missed := s.acceptLog.take()
	if !ok {
		return
	}
	attrs := []any{"error", err, "open_file_limit", openFileLimit(), "websocket_conns", s.slots.Load(),
		"max_conns", s.cfg.MaxConns, "failed_accepts_not_logged", missed}
	hint := "raise the process's open-file limit (RLIMIT_NOFILE)"
	if s.cfg.MaxConns > 0 {
		hint += " or lower the connection cap below it"
	}
	if errors.Is(err, syscall.ENFILE) {
		hint = "the system-wide file table is full (fs.file-max): close other programs' files or raise it"
	}
	s.log.Warn("accept failed: out of file descriptors, new connections wait", append(attrs, "hint", hint)...)
}

// warnFrame logs a frame the server ignores, within the frame log budget.
// Every such line names the connection and is bounded (clip).
func (c *conn) warnFrame(msg string, attrs ...any) {
	c.s.limitedLog(c.s.frameLog, slog.LevelWarn, msg, append([]any{"conn", c.id}, attrs...)...)
}

// limitedLog logs within budget b; when lines were left out, the next one
// says how many.
func (s *Server) limitedLog(b *logBudget, level slog.Level, msg string, attrs ...any) {
	if !s.log.Enabled(context.Background(), level) {
		return
	}
	ok, missed := b.take()
	if !ok {
		return
	}
	if missed > 0 {
		attrs = append(attrs, "similar_lines_not_logged", missed)
	}
	s.log.Log(context.Background(), level, msg, attrs...)
}

// logSuppressed reports, at Shutdown, the lines left out since the last one.
func (s *Server) logSuppressed() {
	if n := s.frameLog.drain(); n > 0 {
		s.log.Info("ignored frames not logged (rate limit)", "count", n)
	}
	if n := s.clientLog.drain(); n > 0 {
		s.log.Info("lines about failed upgrades, denials and timeouts not logged (rate limit)", "count", n)
	}
	if n := s.capLog.drain(); n > 0 {
		s.log.Info("upgrades refused at the cap since the last line", "count", n)
	}
	if n := s.acceptLog.drain(); n > 0 {
		s.log.Info("accepts failed for want of file descriptors since the last line", "count", n)
	}
}
