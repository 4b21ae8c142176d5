package probe

import (
	"time"

	"github.com/convctl/convctl/pkg/netpath"
)

// State is a public connection state, as the SDK's connectionStateChanged
// reports it.
type State string

// The five public states.
const (
	StateConnecting    State = "connecting"
	StateConnected     State = "connected"
	StateDisconnecting State = "disconnecting"
	StateDisconnected  State = "disconnected"
	StateDenied        State = "denied"
)

// Inner is one of the SDK's inner states. Several inner states show as the
// same public state; Public gives the mapping.
type Inner string

// The SDK's inner states (docs/protocol.md, "The client state machine").
const (
	InnerDisconnected            Inner = "disconnected"
	InnerConnecting              Inner = "connecting"
	InnerInitialising            Inner = "initialising"
	InnerConnected               Inner = "connected"
	InnerUpdating                Inner = "updating"
	InnerRetrying                Inner = "retrying"
	InnerError                   Inner = "error"
	InnerRejected                Inner = "rejected"
	InnerDisconnecting           Inner = "disconnecting"
	InnerWaitSocketClosed        Inner = "waitSocketClosed"
	InnerWaitOffloadSocketClosed Inner = "waitOffloadSocketClosed"
	InnerUnsupported             Inner = "unsupported"
)

// Public maps an inner state to the public state an app sees.
func (s Inner) Public() State {
	switch s {
	case InnerConnecting, InnerInitialising, InnerRetrying, InnerError:
		return StateConnecting
	case InnerConnected, InnerUpdating:
		return StateConnected
	case InnerDisconnecting, InnerWaitSocketClosed, InnerWaitOffloadSocketClosed:
		return StateDisconnecting
	case InnerRejected:
		return StateDenied
	default: // disconnected, unsupported
		return StateDisconnected
	}
}

// Outcome is the verdict of a run (docs/json-reports.md, "connect").
type Outcome string

const (
	// OutcomeConnected: reached connected and ended with our own clean disconnect.
	OutcomeConnected Outcome = "connected"
	// OutcomeDenied: the server rejected the token.
	OutcomeDenied Outcome = "denied"
	// OutcomeDisconnected: the server or the network ended a connected
	// session and the run did not get it back.
	OutcomeDisconnected Outcome = "disconnected"
	// OutcomeTimeout: never connected within the timeout though a WebSocket opened.
	OutcomeTimeout Outcome = "timeout"
	// OutcomeUnreachable: DNS, TCP, TLS or the upgrade failed on every attempt.
	OutcomeUnreachable Outcome = "unreachable"
)

// CauseKind classifies why a run did not end cleanly.
type CauseKind string

const (
	CauseTokenRejected CauseKind = "token_rejected"
	CauseTokenExpired  CauseKind = "token_expired"
	CauseNetwork       CauseKind = "network"
	CauseServerClose   CauseKind = "server_close"
	CauseOffload       CauseKind = "offload"
	CauseRateLimited   CauseKind = "rate_limited"
	CauseTimeout       CauseKind = "timeout"
	CauseProtocol      CauseKind = "protocol"
)

// Phase names a step of one connection attempt.
type Phase string

const (
	PhaseDNS     Phase = "dns"
	PhaseTCP     Phase = "tcp"
	PhaseTLS     Phase = "tls"
	PhaseUpgrade Phase = "upgrade"
	PhaseInit    Phase = "init"
)

// Cause explains a run that did not end cleanly. HTTPStatus and TwilioError
// are nil when they do not apply.
type Cause struct {
	Kind        CauseKind `json:"kind"`
	HTTPStatus  *int      `json:"http_status"`
	TwilioError *int      `json:"twilio_error"`
	Message     string    `json:"message"`
	Hint        string    `json:"hint"`
	Phase       Phase     `json:"phase,omitempty"` // for kind timeout and network: where it happened
	// RegionMismatch is set when the hint blames, among other things, a
	// token minted for another region than the URL's.
	RegionMismatch *RegionMismatch `json:"region_mismatch,omitempty"`
}

// RegionMismatch: the token's region (its twr header) differs from the
// region of the Twilsock URL, so the token is sent where it is not valid.
type RegionMismatch struct {
	Token string `json:"token"`
	URL   string `json:"url"`
}

// StateChange records entering a public state. Its AtMS is that of the
// InnerChange that made it. The times of states, inner states and events
// are strictly increasing in the order they happened (by a microsecond
// where two fell in the same one), so sorting them together by time gives
// that order.
type StateChange struct {
	State State   `json:"state"`
	AtMS  float64 `json:"at_ms"`
}

// InnerChange records entering an inner state.
type InnerChange struct {
	State  Inner   `json:"state"`
	Public State   `json:"public"`
	AtMS   float64 `json:"at_ms"`
}

// Event names, as the SDK emits them.
const (
	EventTokenAboutToExpire = "tokenAboutToExpire"
	EventTokenExpired       = "tokenExpired"
	EventTokenUpdated       = "tokenUpdated"
	EventConnectionError    = "connectionError"
	// Not SDK events, but things a person debugging a connection wants on the timeline.
	EventNotification       = "notification"
	EventTokenRefreshFailed = "tokenRefreshFailed"
	EventPeerUnresponsive   = "peerUnresponsive"
	EventProtocolError      = "protocolError"
)

// Event is something the SDK would emit (or, for the non-SDK names above,
// something worth seeing on the timeline). An event that repeats (the same
// name, message and codes) more than FoldAfter times is folded: the repeats
// after those go into one entry, whose Count says how many times it
// happened, AtMS when first and LastAtMS when last. A peer-supplied Message
// is cut to MaxMessageBytes.
type Event struct {
	Name        string  `json:"name"`
	AtMS        float64 `json:"at_ms"`
	Terminal    *bool   `json:"terminal,omitempty"`
	HTTPStatus  *int    `json:"http_status,omitempty"`
	TwilioError *int    `json:"twilio_error,omitempty"`
	Message     string  `json:"message,omitempty"`
	// Count is set (2 or more) only when the event repeated.
	Count    int      `json:"count,omitempty"`
	LastAtMS *float64 `json:"last_at_ms,omitempty"`
}

// Bounds on a Report, so that no peer can make it grow without limit
// however long it floods. Past a bound a list keeps its first and its most
// recent entries and Report.Omitted counts the ones left out between.
const (
	// FoldAfter is how many times an event is listed one by one before its
	// repeats fold into a count.
	FoldAfter      = 4
	MaxStates      = 256
	MaxInnerStates = 512
	MaxReconnects  = 256
	MaxPings       = 1024
	MaxWarnings    = 32
	// MaxEventsPerName is how many different entries (by message and codes)
	// one event name keeps; later different ones fold into an entry with
	// the same key, or are omitted.
	MaxEventsPerName = 64
	// MaxMessageBytes bounds any text a peer supplied (a message type, a
	// status description) wherever the report repeats it.
	MaxMessageBytes = 256
)

// Omitted counts entries left out of a report's lists to keep it bounded
// (see MaxStates and the rest). Nil when nothing was left out.
type Omitted struct {
	States      int `json:"states,omitempty"`
	InnerStates int `json:"inner_states,omitempty"`
	Events      int `json:"events,omitempty"`
	Reconnects  int `json:"reconnects,omitempty"`
	Pings       int `json:"pings_ms,omitempty"`
	Warnings    int `json:"warnings,omitempty"`
}

// Reconnect is one retry: the attempt number (1 for the first retry), the
// backoff waited before it, and the error that made it necessary.
type Reconnect struct {
	Attempt int     `json:"attempt"`
	DelayMS float64 `json:"delay_ms"`
	Error   string  `json:"error"`
}

// Timing is the phases of one attempt in milliseconds: the attempt that first
// connected, or the last attempt when none did. A phase not reached, or not
// applicable (tls on ws://, dns for an IP literal), is nil.
type Timing struct {
	DNS       *float64 `json:"dns"`
	TCP       *float64 `json:"tcp"`
	TLS       *float64 `json:"tls"`
	Upgrade   *float64 `json:"upgrade"`
	Init      *float64 `json:"init"`
	Connected *float64 `json:"connected"`
	// Proxy is TCP (and TLS) to the proxy plus its CONNECT answer; nil when direct.
	Proxy *float64 `json:"proxy"`
}

// UpgradeFailure is what the server answered to a refused WebSocket upgrade
// (the last one, when several were refused).
type UpgradeFailure struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body,omitempty"`
}

// TokenInfo is what the probe read from the token it connected with (the
// last one, after renewals). Signature says whether it was checked against
// Config.Secret.
type TokenInfo struct {
	Identity  string     `json:"identity,omitempty"`
	Region    string     `json:"region,omitempty"`
	ExpiresAt *time.Time `json:"expires_at"`
	Signature string     `json:"signature"`
	Renewals  int        `json:"renewals"`
}

// Report is everything a run learned. Its JSON form is the `convctl connect
// -o json` report (docs/json-reports.md, "connect"; docs/schema/connect.schema.json).
type Report struct {
	URL              string          `json:"url"`
	Outcome          Outcome         `json:"outcome"`
	States           []StateChange   `json:"states"`
	Events           []Event         `json:"events"`
	Reconnects       []Reconnect     `json:"reconnects"`
	Timing           Timing          `json:"timing_ms"`
	Cause            *Cause          `json:"cause"`
	ClockSkewSeconds *float64        `json:"clock_skew_seconds"`
	InnerStates      []InnerChange   `json:"inner_states"`
	PingsMS          []float64       `json:"pings_ms"`
	Upgrade          *UpgradeFailure `json:"upgrade_failure,omitempty"`
	Token            *TokenInfo      `json:"token,omitempty"`
	Warnings         []string        `json:"warnings"`
	// Network is the path the reported attempt took: proxy, addresses, TLS.
	Network    *netpath.Path `json:"network"`
	Attempts   int           `json:"attempts"`
	DurationMS float64       `json:"duration_ms"`
	// Interrupted is true when the caller's context ended the run early.
	Interrupted bool `json:"interrupted,omitempty"`
	// Renew is Config.Renew: whether the run renewed the token on
	// tokenAboutToExpire, as an app that calls updateToken does.
	Renew bool `json:"renew,omitempty"`
	// RegionMismatch is set when the token's region is not the URL's.
	RegionMismatch *RegionMismatch `json:"region_mismatch,omitempty"`
	// Omitted is set when a list was cut to keep the report bounded.
	Omitted *Omitted `json:"omitted,omitempty"`
}

// ms is netpath.Millis: one rounding for every report.
func ms(d time.Duration) float64 { return netpath.Millis(d) }

func msp(d time.Duration) *float64 { v := ms(d); return &v }

func intp(v int) *int { return &v }

func boolp(v bool) *bool { return &v }
