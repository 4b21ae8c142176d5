package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/convctl/convctl/pkg/netpath"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"time"
)

// SDK defaults (twilsock 1.0.2), which the probe mirrors unless told otherwise.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultBackoffMin     = 1 * time.Second
	DefaultBackoffMax     = 120 * time.Second
	DefaultBackoffJitter  = 0.2
	DefaultRequestTimeout = 30 * time.Second // the SDK's wait for a reply to init or update
	DefaultDisconnectWait = 3 * time.Second  // the SDK's DISCONNECTING_TIMEOUT after a server close
	DefaultPingMisses     = 2
)

// ErrConfig is matched (errors.Is) by every error Run returns for a bad Config.
var ErrConfig = errors.New("probe: bad config")

// ErrToken is matched by the error Run returns when the initial token cannot
// be had; the token source's own error is wrapped too.
var ErrToken = errors.New("probe: no token")

// Backoff is the reconnect policy: the first retry waits about Min, each next
// one twice as long up to Max, each randomised by ±Jitter (a fraction). Zero
// fields take the SDK's values (1 s, 120 s, 0.2). An offload (close 308) or an
// init answered 429 raises the minimum to the server's reconnect_min_ms; a
// successful connection resets it.
type Backoff struct {
	Min    time.Duration
	Max    time.Duration
	Jitter float64
}

// Resolver looks up a host's addresses; *net.Resolver implements it. Tests
// inject one to stall or fail the DNS phase.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Config describes one probe run. URL and Token are required; every zero
// duration takes the SDK's value or a default named in its comment.
type Config struct {
	// URL is the Twilsock endpoint, ws:// or wss://.
	URL string
	// Token returns the initial token, and a fresh one each time the run
	// needs another (UpdateToken, Renew). It is called from Run's goroutine.
	Token func(ctx context.Context) (string, error)
	// Secret is the API Key secret, if known: a rejected token is then
	// explained with its signature checked.
	Secret []byte

	// Timeout bounds the whole run, reconnects included (default 30 s).
	// Run returns within Timeout plus about a second, whatever the peer does.
	Timeout time.Duration
	// Hold keeps the connection up this long after it first connects, then
	// disconnects cleanly. Zero disconnects as soon as connected.
	Hold time.Duration
	// UpdateToken fetches a fresh token once connected and sends update.
	UpdateToken bool
	// Renew fetches a fresh token and sends update on tokenAboutToExpire,
	// at most once a second however often the server asks.
	Renew bool
	// NoReconnect stops at the first failure instead of retrying.
	NoReconnect bool
	Backoff     Backoff

	// PingInterval sends WebSocket pings while connected (zero: none, like
	// the SDK). After PingMisses unanswered pings in a row the peer is
	// declared dead and the connection treated as lost, which the SDK would
	// never notice.
	PingInterval time.Duration
	PingMisses   int // default 2

	// RequestTimeout is how long init and update wait for a reply (default 30 s).
	RequestTimeout time.Duration
	// DisconnectWait is how long the public state stays disconnecting after
	// a server close, as the SDK's does (default 3 s; negative: not at all).
	DisconnectWait time.Duration

	// Version goes into init's metadata (ver, sdkv). Default "dev".
	Version string

	// Logger gets every frame both ways (tokens redacted; past
	// FrameLogBurst of a kind in a FrameLogWindow, a count) and every
	// inner transition at debug level. Nil logs nothing.
	Logger *slog.Logger
	// Observer is called from Run's goroutine, in order, for every state
	// change and event as it happens; of an event folded into a count (see
	// Event), only when its count reaches a power of two. It must not block
	// for long: the connection is not read while it runs.
	Observer func(Update)

	// Now is the wall clock for judging tokens and the server's Date header
	// (default time.Now). Durations and timers always use the monotonic clock.
	Now func() time.Time
	// Rand returns a number in [0, 1) for backoff jitter (default math/rand/v2).
	Rand func() float64
	// Resolver for the DNS phase (default net.DefaultResolver).
	Resolver Resolver
	// TLSConfig for wss://: only its RootCAs are used, as this machine's
	// roots (default: the system's). Ignored when Network is set.
	TLSConfig *tls.Config
	// Network is the dialer every attempt goes through: proxies, address
	// rules, trusted roots (see package netpath). Nil: a netpath dialer with
	// Resolver and TLSConfig's roots that follows the environment's proxy
	// variables as net/http does.
	Network *netpath.Dialer
}

// withDefaults validates c and returns a copy with every default applied.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("URL is empty"))
	} else if u, err := url.Parse(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("URL: %v", err))
	} else if u.Scheme != "ws" && u.Scheme != "wss" {
		errs = append(errs, fmt.Errorf("URL %q: scheme must be ws or wss", c.URL))
	} else if u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q has no host", c.URL))
	}
	if c.Token == nil {
		errs = append(errs, errors.New("the Token func is nil"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"Timeout", c.Timeout}, {"Hold", c.Hold}, {"PingInterval", c.PingInterval},
		{"RequestTimeout", c.RequestTimeout}, {"Backoff.Min", c.Backoff.Min}, {"Backoff.Max", c.Backoff.Max}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative (%v)", d.name, d.v))
		}
	}
	if c.PingMisses < 0 {
		errs = append(errs, fmt.Errorf("PingMisses is negative (%d)", c.PingMisses))
	}
	if c.Backoff.Jitter < 0 || c.Backoff.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("Backoff.Jitter %v is outside [0, 1)", c.Backoff.Jitter))
	}
	if c.Backoff.Min > 0 && c.Backoff.Max > 0 && c.Backoff.Min > c.Backoff.Max {
		errs = append(errs, fmt.Errorf("Backoff.Min %v exceeds Backoff.Max %v", c.Backoff.Min, c.Backoff.Max))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}

	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	switch {
	case c.DisconnectWait == 0:
		c.DisconnectWait = DefaultDisconnectWait
	case c.DisconnectWait < 0:
		c.DisconnectWait = 0
	}
	if c.PingMisses == 0 {
		c.PingMisses = DefaultPingMisses
	}
	if c.Backoff.Min == 0 {
		c.Backoff.Min = DefaultBackoffMin
	}
	if c.Backoff.Max == 0 {
		c.Backoff.Max = max(DefaultBackoffMax, c.Backoff.Min)
	}
	if c.Backoff.Jitter == 0 {
		c.Backoff.Jitter = DefaultBackoffJitter
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = func(Update) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	return c, nil
}

// UpdateKind says which fields of an Update are set.
type UpdateKind int

const (
	// UpdateState: the inner state changed (State is its public state;
	// PublicChanged says whether an app would have seen a change).
	UpdateState UpdateKind = iota
	// UpdateEvent: Event is set.
	UpdateEvent
	// UpdateRetry: a reconnect is scheduled; Reconnect says after how long and why.
	UpdateRetry
	// UpdatePhase: a phase of an attempt finished; Phase and Duration are set.
	UpdatePhase
	// UpdatePing: a pong came back; Duration is the round trip.
	UpdatePing
	// UpdateToken: the probe read a token it is about to use; Token is set.
	UpdateToken
)

// Update is one live observation, delivered to Config.Observer.
type Update struct {
	Kind UpdateKind
	// At is the time since Run started.
	At time.Duration

	Inner         Inner
	State         State
	PublicChanged bool

	Event     *Event
	Reconnect *Reconnect
	Phase     Phase
	Duration  time.Duration
	Token     *TokenInfo
}
