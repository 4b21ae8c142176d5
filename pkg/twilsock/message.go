package twilsock

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// Methods, both directions.
const (
	MethodInit         = "init"
	MethodUpdate       = "update"
	MethodClose        = "close"
	MethodReply        = "reply"
	MethodMessage      = "message"
	MethodTelemetry    = "telemetry.v1"
	MethodClientUpdate = "client_update"
	MethodNotification = "notification"
)

// ClientUpdateTokenAboutToExpire is the client_update_type that announces the token's final window.
const ClientUpdateTokenAboutToExpire = "token_about_to_expire"

// ProductConversations is the product id the Conversations client registers and grants under.
const ProductConversations = "ip_messaging"

// DefaultCapabilities is what the real client asks for in init.
var DefaultCapabilities = []string{"client_update", "offline_storage", "telemetry.v1"}

// Message is any header value Encode can frame.
type Message interface{ base() *Base }

// Base holds the fields every header carries. A type that embeds it must
// embed it first: Encode relies on these fields leading the JSON object.
// The order (id before method) is the SDK's.
type Base struct {
	ID          string `json:"id"`
	Method      string `json:"method"`
	PayloadType string `json:"payload_type,omitempty"`
	PayloadSize int    `json:"payload_size"`
}

func (b *Base) base() *Base { return b }

// Status is a reply's or a close's outcome. ErrorCode is a Twilio error code (see Errors).
type Status struct {
	Code        int    `json:"code"`
	Status      string `json:"status"`
	ErrorCode   int    `json:"errorCode,omitempty"`
	Description string `json:"description,omitempty"`
}

// OK reports whether the status is 2xx.
func (s *Status) OK() bool { return s != nil && s.Code >= 200 && s.Code < 300 }

// Metadata describes the client in init.
type Metadata struct {
	Ver  string `json:"ver"`
	Env  string `json:"env"`
	EnvV string `json:"envv"`
	OS   string `json:"os"`
	OSV  string `json:"osv"`
	OSA  int    `json:"osa"`
	Type string `json:"type,omitempty"`
	SDK  string `json:"sdk"`
	SDKV string `json:"sdkv,omitempty"`
}

// Registration is one product's notification registration.
type Registration struct {
	Product                     string   `json:"product"`
	Type                        string   `json:"type"`
	NotificationProtocolVersion int      `json:"notification_protocol_version"`
	MessageTypes                []string `json:"message_types"`
}

// ContinuationTokenStatus is what the server says of the continuation token it was given.
type ContinuationTokenStatus struct {
	Reused       bool    `json:"reused"`
	Restored     bool    `json:"restored"`
	RestoreError *string `json:"restore_error"`
	Invalid      bool    `json:"invalid"`
	Expired      bool    `json:"expired"`
}

// OfflineStorage names a product's storage in the init reply.
type OfflineStorage struct {
	StorageID string `json:"storage_id"`
}

// HTTPRequest is the request an upstream message carries.
type HTTPRequest struct {
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Params  map[string]any    `json:"params,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// HTTPStatus is the upstream answer in a message reply.
type HTTPStatus struct {
	Code   int    `json:"code"`
	Status string `json:"status"`
}

// TelemetryEvent is one entry of a telemetry.v1 frame.
type TelemetryEvent struct {
	Start   int64  `json:"start"`
	End     int64  `json:"end"`
	Title   string `json:"title"`
	Details string `json:"details"`
}

// BackoffPolicy travels in the payload of a close 308 or a 429 reply.
type BackoffPolicy struct {
	ReconnectMinMS int `json:"reconnect_min_ms"`
	ReconnectMaxMS int `json:"reconnect_max_ms,omitempty"`
}

// ClosePayload is the JSON payload of a close frame.
type ClosePayload struct {
	BackoffPolicy *BackoffPolicy `json:"backoff_policy,omitempty"`
}

// Header is every field either side sends. Decode fills it; it also encodes,
// leaving out what is empty.
type Header struct {
	Base
	Status *Status `json:"status,omitempty"`

	// init and update
	Token             string          `json:"token,omitempty"`
	ContinuationToken *string         `json:"continuation_token,omitempty"`
	Metadata          *Metadata       `json:"metadata,omitempty"`
	Registrations     []Registration  `json:"registrations,omitempty"`
	Tweaks            json.RawMessage `json:"tweaks,omitempty"`
	Capabilities      []string        `json:"capabilities,omitempty"`

	// init reply
	ContinuationTokenStatus *ContinuationTokenStatus  `json:"continuation_token_status,omitempty"`
	OfflineStorage          map[string]OfflineStorage `json:"offline_storage,omitempty"`
	InitRegistrations       []Registration            `json:"init_registrations,omitempty"`
	DebugInfo               json.RawMessage           `json:"debug_info,omitempty"`

	// client_update, notification
	ClientUpdateType string `json:"client_update_type,omitempty"`
	MessageType      string `json:"message_type,omitempty"`

	// upstream message and its reply
	ActiveGrant string            `json:"active_grant,omitempty"`
	HTTPRequest *HTTPRequest      `json:"http_request,omitempty"`
	HTTPStatus  *HTTPStatus       `json:"http_status,omitempty"`
	HTTPHeaders map[string]string `json:"http_headers,omitempty"`

	// telemetry.v1
	Events []TelemetryEvent `json:"events,omitempty"`
}

// Init is the client's first frame, shaped exactly as the real SDK writes it:
// continuation_token, registrations and tweaks are present even when null.
type Init struct {
	Base
	Token             string          `json:"token"`
	ContinuationToken *string         `json:"continuation_token"`
	Metadata          Metadata        `json:"metadata"`
	Registrations     []Registration  `json:"registrations"`
	Tweaks            json.RawMessage `json:"tweaks"`
	Capabilities      []string        `json:"capabilities"`
}

// NewID returns a fresh message id: "TM" and a version-4 UUID with dashes, as the SDK makes them.
func NewID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails on supported platforms
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var out [38]byte
	out[0], out[1] = 'T', 'M'
	hex.Encode(out[2:10], u[0:4])
	out[10] = '-'
	hex.Encode(out[11:15], u[4:6])
	out[15] = '-'
	hex.Encode(out[16:20], u[6:8])
	out[20] = '-'
	hex.Encode(out[21:25], u[8:10])
	out[25] = '-'
	hex.Encode(out[26:38], u[10:16])
	return string(out[:])
}

// NewInit builds an init with a fresh id. continuation is nil on a first connection.
func NewInit(token string, continuation *string, md Metadata, regs []Registration) *Init {
	return &Init{
		Base:              Base{Method: MethodInit, ID: NewID()},
		Token:             token,
		ContinuationToken: continuation,
		Metadata:          md,
		Registrations:     regs,
		Tweaks:            json.RawMessage("null"),
		Capabilities:      DefaultCapabilities,
	}
}

// NewUpdate builds an update carrying a fresh token.
func NewUpdate(token string) *Header {
	return &Header{Base: Base{Method: MethodUpdate, ID: NewID()}, Token: token}
}

// NewClientClose builds the client's close request (no status, no payload).
func NewClientClose() *Header {
	return &Header{Base: Base{Method: MethodClose, ID: NewID()}}
}

// NewAck builds the reply 200 with which a client acknowledges a pushed frame.
func NewAck(id string) *Header {
	return &Header{Base: Base{Method: MethodReply, ID: id, PayloadType: "application/json"}, Status: &Status{Code: 200, Status: "OK"}}
}

// NewReply builds a server reply to the request with the given id.
func NewReply(id string, st Status) *Header {
	return &Header{Base: Base{Method: MethodReply, ID: id, PayloadType: "application/json"}, Status: &st}
}

// NewClientUpdate builds a server-pushed client_update.
func NewClientUpdate(kind string) *Header {
	return &Header{Base: Base{Method: MethodClientUpdate, ID: NewID()}, ClientUpdateType: kind}
}

// NewServerClose builds a server-pushed close. The payload, when there is a
// backoff policy, is the JSON of ClosePayload; PayloadType is set for it.
func NewServerClose(st Status, policy *BackoffPolicy) (*Header, []byte, error) {
	h := &Header{Base: Base{Method: MethodClose, ID: NewID()}, Status: &st}
	if policy == nil {
		return h, nil, nil
	}
	p, err := json.Marshal(ClosePayload{BackoffPolicy: policy})
	if err != nil {
		return nil, nil, err
	}
	h.PayloadType = "application/json"
	return h, p, nil
}

// OKStatus is the 200 status every success carries.
func OKStatus() Status { return Status{Code: 200, Status: "OK"} }

// DenyStatus is the 401 status for a rejected token, described from the catalogue.
func DenyStatus(twilioError int) Status {
	return Status{Code: 401, Status: "Unauthorized", ErrorCode: twilioError, Description: Describe(twilioError)}
}

// InitReply is a server's 200 answer to init, shaped as the service writes it:
// every field the SDK reads is present, init_registrations as [] rather than
// absent when the client registered nothing.
type InitReply struct {
	Base
	Status                  Status                    `json:"status"`
	ContinuationToken       string                    `json:"continuation_token"`
	ContinuationTokenStatus ContinuationTokenStatus   `json:"continuation_token_status"`
	Capabilities            []string                  `json:"capabilities"`
	OfflineStorage          map[string]OfflineStorage `json:"offline_storage"`
	InitRegistrations       []Registration            `json:"init_registrations"`
	DebugInfo               json.RawMessage           `json:"debug_info,omitempty"`
}

// NewInitReply builds a 200 init reply to the request with the given id.
// Nil capabilities and registrations are written as empty arrays.
func NewInitReply(id, continuationToken string, cts ContinuationTokenStatus, caps []string, storage map[string]OfflineStorage, regs []Registration) *InitReply {
	if caps == nil {
		caps = []string{}
	}
	if regs == nil {
		regs = []Registration{}
	}
	return &InitReply{
		Base:                    Base{ID: id, Method: MethodReply, PayloadType: "application/json"},
		Status:                  OKStatus(),
		ContinuationToken:       continuationToken,
		ContinuationTokenStatus: cts,
		Capabilities:            caps,
		OfflineStorage:          storage,
		InitRegistrations:       regs,
	}
}

// NewMessageReply builds the reply to an upstream message: the request itself
// succeeded (status 200) and the upstream answered httpStatus; the body, if
// any, is the frame's payload.
func NewMessageReply(id string, httpStatus HTTPStatus, headers map[string]string) *Header {
	return &Header{
		Base:        Base{ID: id, Method: MethodReply, PayloadType: "application/json"},
		Status:      &Status{Code: 200, Status: "OK"},
		HTTPStatus:  &httpStatus,
		HTTPHeaders: headers,
	}
}

// RESTError is the JSON body of a Twilio REST error, as an upstream reply
// carries it: {"status":404,"message":"…","code":20404,"more_info":"…"}.
type RESTError struct {
	Status   int    `json:"status"`
	Message  string `json:"message"`
	Code     int    `json:"code"`
	MoreInfo string `json:"more_info"`
}
