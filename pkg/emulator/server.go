package emulator

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Paths the server answers.
const (
	PathWS      = "/v3/wsconnect"
	PathControl = "/control/"
)

// Defaults for the zero values of Config.
const (
	DefaultAboutToExpire  = 3 * time.Minute
	DefaultOffloadBackoff = time.Second
	DefaultPingInterval   = 30 * time.Second
	DefaultCloseGrace     = 5 * time.Second
	DefaultUpstreamStatus = http.StatusNotFound
	DefaultInitTimeout    = 30 * time.Second
)

// MaxMessageSize is the largest WebSocket message the server reads: a
// Twilsock header at its limit plus a generous payload. The SDK's largest
// frame, the Conversations init, is about 1 KiB.
const MaxMessageSize = twilsock.MaxHeaderSize + 192<<10

const (
	writeWait = 10 * time.Second // for every write, data and control
	closeWait = time.Second      // for the peer's close frame once ours is sent

	// Shutdown's bounds: each goodbye frame gets shutdownWriteWait to go out,
	// and peers get shutdownGrace in all to answer before their sockets are
	// cut, so the server stops within a second whatever its clients do.
	shutdownWriteWait = 250 * time.Millisecond
	shutdownGrace     = 500 * time.Millisecond
)

// Config sets the server's behaviour; the zero value of every field is a
// sensible default.
type Config struct {
	Secret         []byte           // API key secret; tokens are verified with it. Empty: signatures are not verified (logged)
	AboutToExpire  time.Duration    // default 3m: send client_update token_about_to_expire when the token enters its final window
	Deny           int              // Twilio error code: answer every init with 401 and this code (0 = off)
	InitDelay      time.Duration    // wait this long before answering each init
	DropAfter      time.Duration    // once per server: after the first connection is initialised, cut TCP, no close frame
	OffloadAfter   time.Duration    // once per server: send close 308 with backoff_policy.reconnect_min_ms = OffloadBackoff
	OffloadBackoff time.Duration    // default 1s
	RefuseUpgrades int              // first N upgrades answered HTTP 503
	Logger         *slog.Logger     // nil: discard. Every frame (tokens redacted) and decision at debug level
	Clock          func() time.Time // nil: time.Now; used to judge tokens and to schedule their timers

	// Product is the grant a token must carry (default conversations); the
	// real service accepts a token for any product Twilsock carries.
	Product inspect.Product
	// UpstreamStatus is the http_status every upstream message is answered
	// with (default 404).
	UpstreamStatus int
	// PingInterval is how often the server pings each connection (default
	// 30s). A connection that sends nothing, not even a pong, for twice this
	// long is closed: the SDK has no keepalive, so this is how a half-open
	// TCP connection is noticed.
	PingInterval time.Duration
	// CloseGrace is how long, after a close frame or a 401, the server waits
	// for the client to close the socket, as the SDK does at once, before
	// closing it itself (default 5s).
	CloseGrace time.Duration
	// Web is the dashboard, event stream, token endpoint and control token (web.go).
	Web WebConfig
	// InitTimeout is how long a connection may stay open without sending
	// init before the server closes it with WebSocket status 1008 (default
	// 30s; negative: no limit). Pings do not count: a client that answers
	// them but never says init holds a socket for nothing.
	InitTimeout time.Duration
	// MaxConns caps the WebSocket connections open at once, upgrades in
	// progress included; one more is answered HTTP 503 (0: DefaultMaxConns,
	// below the process's open-file limit; negative: no cap). The control
	// API is not counted, and stays reachable at the cap.
	MaxConns int
}

func (c Config) withDefaults() Config {
	if c.AboutToExpire <= 0 {
		c.AboutToExpire = DefaultAboutToExpire
	}
	if c.OffloadBackoff <= 0 {
		c.OffloadBackoff = DefaultOffloadBackoff
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = debuglog.Discard()
	}
	if c.Product == "" {
		c.Product = inspect.ProductConversations
	}
	if c.UpstreamStatus == 0 {
		c.UpstreamStatus = DefaultUpstreamStatus
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.CloseGrace <= 0 {
		c.CloseGrace = DefaultCloseGrace
	}
	switch {
	case c.InitTimeout == 0:
		c.InitTimeout = DefaultInitTimeout
	case c.InitTimeout < 0:
		c.InitTimeout = 0
	}
	switch {
	case c.MaxConns == 0:
		c.MaxConns = DefaultMaxConns()
	case c.MaxConns < 0:
		c.MaxConns = 0
	}
	return c
}

// Stats counts what the server has done since New. Active and Connected are
// gauges; everything else only grows.
type Stats struct {
	Upgrades      int64 `json:"upgrades"`        // WebSocket upgrades accepted
	Refused       int64 `json:"refused"`         // upgrades answered 503 (RefuseUpgrades, the cap, or shutting down)
	CapRefused    int64 `json:"cap_refused"`     // of those, refused because MaxConns connections were open
	InitTimeouts  int64 `json:"init_timeouts"`   // connections closed for sending no init within InitTimeout
	Oversized     int64 `json:"oversized"`       // messages or headers over the limits, answered 413 or closed 1009
	Inits         int64 `json:"inits"`           // init answered 200
	Denied        int64 `json:"denied"`          // init or update answered 401
	Updates       int64 `json:"updates"`         // update answered 200
	Messages      int64 `json:"messages"`        // upstream messages answered
	Acks          int64 `json:"acks"`            // client replies acknowledging a pushed frame
	Telemetry     int64 `json:"telemetry"`       // telemetry.v1 frames received
	ClientCloses  int64 `json:"client_closes"`   // close requests from clients
	AboutToExpire int64 `json:"about_to_expire"` // client_update token_about_to_expire sent
	Expired       int64 `json:"expired"`         // close 410 sent because a token expired
	Offloads      int64 `json:"offloads"`        // close 308 sent by the fault or the control API (not Shutdown's)
	ServerCloses  int64 `json:"server_closes"`   // close frames sent, any code
	Drops         int64 `json:"drops"`           // TCP connections cut without a close frame
	TextFrames    int64 `json:"text_frames"`     // text messages ignored
	Malformed     int64 `json:"malformed"`       // binary messages that were not Twilsock frames
	Ignored       int64 `json:"ignored"`         // frames with a method no client sends
	Active        int64 `json:"active"`          // WebSocket connections open now
	Connected     int64 `json:"connected"`       // of those, initialised and not closing
}

type counters struct {
	upgrades, refused, inits, denied, updates, messages, acks, telemetry, clientCloses,
	aboutToExpire, expired, offloads, serverCloses, drops, textFrames, malformed, ignored,
	active, connected, capRefused, initTimeouts, oversized atomic.Int64
}

// Server is a Twilsock server; see the package documentation.
type Server struct {
	cfg       Config
	log       *slog.Logger
	inspector *inspect.Inspector
	upgrader  websocket.Upgrader
	mux       *http.ServeMux
	stats     counters
	sessions  sessions
	web       webState

	seq          atomic.Int64 // connection numbers, from 1
	slots        atomic.Int64 // WebSocket connections open or upgrading, against MaxConns
	frameLog     *logBudget   // ignored frames
	clientLog    *logBudget   // failed upgrades, denials, timeouts
	capLog       *logBudget   // upgrades refused at the cap
	acceptLog    *logBudget   // accepts failed for want of file descriptors
	refuseLeft   atomic.Int64
	faultsArmed  atomic.Bool // the first initialised connection has taken the faults
	warnedSecret sync.Once

	mu       sync.Mutex
	conns    map[int64]*conn
	closing  bool
	wg       sync.WaitGroup
	shutdown chan struct{} // closed by Shutdown: every writer says goodbye
	force    chan struct{} // closed when Shutdown's context ends: stop waiting for peers
	stopOnce sync.Once
}

// writeBuffers is shared by every connection: a write buffer is held only
// while a message is being written, not for the life of a connection.
var writeBuffers sync.Pool

// New returns a server. It starts nothing until it serves its first request.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:       cfg,
		log:       debuglog.Component(cfg.Logger, "emulator"),
		conns:     make(map[int64]*conn),
		shutdown:  make(chan struct{}),
		force:     make(chan struct{}),
		frameLog:  newLogBudget(frameLogBurst, frameLogWindow),
		clientLog: newLogBudget(clientLogBurst, frameLogWindow),
		capLog:    newLogBudget(1, capLogWindow),
		acceptLog: newLogBudget(1, capLogWindow),
	}
	s.inspector = inspect.NewInspector(
		inspect.WithSecret(cfg.Secret),
		inspect.WithClock(cfg.Clock),
		inspect.WithProduct(cfg.Product),
		inspect.WithAboutToExpire(cfg.AboutToExpire),
	)
	s.refuseLeft.Store(int64(cfg.RefuseUpgrades))
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: writeWait,
		// Small: it is held for the life of every connection, idle or not.
		// The SDK's init, its largest frame, is about 1.1 KiB: three reads.
		// The hijacked 4 KiB net/http reader is let go.
		ReadBufferSize:  512,
		WriteBufferSize: 2048,
		WriteBufferPool: &writeBuffers,
		// Browsers send an Origin; the SDK runs in pages of any origin.
		CheckOrigin: func(*http.Request) bool { return true },
		// Declines permessage-deflate, as the transcript's server did.
		EnableCompression: false,
		Error:             s.upgradeError,
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(PathWS, s.serveWS)
	s.routeControl(s.mux)
	s.initWeb(s.mux)
	return s
}

// ServeHTTP serves the WebSocket endpoint and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.authorized(w, r) {
		s.mux.ServeHTTP(w, r)
	}
}

func (s *Server) upgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	s.limitedLog(s.clientLog, slog.LevelInfo, "upgrade failed", "remote", r.RemoteAddr, "status", status, "error", reason)
	http.Error(w, "convctl emulator: "+reason.Error(), status)
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "convctl emulator: "+PathWS+" is a Twilsock WebSocket endpoint; connect with a WebSocket client", http.StatusUpgradeRequired)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		s.stats.refused.Add(1)
		s.log.Info("upgrade refused: shutting down", "remote", r.RemoteAddr)
		http.Error(w, "convctl emulator: shutting down", http.StatusServiceUnavailable)
		return
	}
	if refuse, nth, of := s.takeRefusal(); refuse {
		s.stats.refused.Add(1)
		s.log.Info("upgrade refused (fault refuse-upgrades)", "remote", r.RemoteAddr, "status", 503,
			"refused", nth, "of", of)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "convctl emulator: upgrade refused (fault refuse-upgrades, "+strconv.FormatInt(nth, 10)+" of "+strconv.FormatInt(of, 10)+")", http.StatusServiceUnavailable)
		return
	}
	if !s.admit() {
		s.refuseAtCap(w, r)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.release()
		return // upgradeError answered and logged it
	}
	c := newConn(s, ws, r.RemoteAddr)
	if !s.register(c) {
		s.release()
		s.stats.refused.Add(1)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(shutdownWriteWait))
		_ = ws.Close()
		return
	}
	s.stats.upgrades.Add(1)
	s.stats.active.Add(1)
	s.log.Debug("connection open", "conn", c.id, "remote", c.remote)
	s.publish(c, EventOpened)
	go c.readLoop()
	go c.writeLoop()
}

// register adds c and accounts for its two goroutines, unless the server is
// shutting down. Under the same lock as Shutdown's flag, so Shutdown's Wait
// covers every connection it did not turn away.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c.n] = c
	s.wg.Add(2)
	return true
}

func (s *Server) unregister(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.n)
	s.mu.Unlock()
	s.stats.active.Add(-1)
	s.release()
	s.publish(c, EventClosed)
}

// Shutdown closes every connection with a close frame and waits for every
// goroutine the server started. An initialised connection first gets a
// Twilsock close 308 (an offload: the SDK reconnects after OffloadBackoff, as
// it would when a real Twilsock node goes away), then every connection gets a
// WebSocket close frame 1001. Peers have half a second in all to answer;
// then, or when ctx ends first, the remaining connections are cut. Shutdown
// returns nil when it stopped within its own grace (peers that did not
// answer in time are not the server's failure), and ctx.Err() when ctx ended
// first. Either way it returns promptly, whatever the clients do: every
// goodbye is written with a short deadline, and a cut socket ends both of a
// connection's goroutines. Upgrades that arrive during or after Shutdown are
// answered 503. The http.Server that serves this handler is the caller's to
// shut down: it does not track hijacked connections, so it can run
// alongside.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.shutdown) })

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	var err error
	select {
	case <-done:
		s.logSuppressed()
		return nil
	case <-grace.C:
		s.log.Info("shutdown: cutting the connections that did not close in time", "grace", shutdownGrace,
			"connections", s.stats.active.Load())
	case <-ctx.Done():
		err = ctx.Err()
		s.log.Info("shutdown: deadline reached, cutting the remaining connections", "connections", s.stats.active.Load())
	}
	s.mu.Lock()
	select {
	case <-s.force:
	default:
		close(s.force)
	}
	for _, c := range s.conns {
		_ = c.ws.NetConn().Close()
	}
	s.mu.Unlock()
	<-done // closed sockets end both goroutines promptly
	s.logSuppressed()
	return err
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Upgrades: c.upgrades.Load(), Refused: c.refused.Load(), Inits: c.inits.Load(), Denied: c.denied.Load(),
		Updates: c.updates.Load(), Messages: c.messages.Load(), Acks: c.acks.Load(), Telemetry: c.telemetry.Load(),
		ClientCloses: c.clientCloses.Load(), AboutToExpire: c.aboutToExpire.Load(), Expired: c.expired.Load(),
		Offloads: c.offloads.Load(), ServerCloses: c.serverCloses.Load(), Drops: c.drops.Load(),
		TextFrames: c.textFrames.Load(), Malformed: c.malformed.Load(), Ignored: c.ignored.Load(),
		Active: c.active.Load(), Connected: c.connected.Load(),
		CapRefused: c.capRefused.Load(), InitTimeouts: c.initTimeouts.Load(), Oversized: c.oversized.Load(),
	}
}

// verdict is what the server makes of a token.
type verdict struct {
	ok       bool
	code     int    // Twilio error code when !ok
	reason   string // the finding, for the log
	identity string
	expires  time.Time // zero when the token has no exp (cannot be valid, but be safe)
}

func (s *Server) judge(token string) verdict {
	if len(s.cfg.Secret) == 0 {
		s.warnedSecret.Do(func() {
			s.log.Warn("no API key secret: token signatures are not verified")
		})
	}
	rep := s.inspector.Inspect(token)
	v := verdict{identity: rep.Identity}
	if rep.ExpiresAt != nil {
		v.expires = *rep.ExpiresAt
	}
	if f := rep.FirstError(); f != nil {
		v.code = twilsock.ErrAuthFailed
		if f.TwilioError != nil {
			v.code = *f.TwilioError
		}
		v.reason = f.Code + ": " + f.Message
		return v
	}
	v.ok = true
	return v
}

// errNotFound and errConflict classify control API failures.
var (
	errNotFound = errors.New("not found")
	errConflict = errors.New("conflict")
)
