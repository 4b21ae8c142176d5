package twilsock

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeHeader fills h from raw exactly as json.Unmarshal(raw, h) would, and
// faster for the headers both peers really write: plain keys, strings without
// escapes, integers. It returns false, with h in an unspecified state, at the
// first thing it does not handle (an escape, a key in another case, a
// duplicate key, a float where an int goes, anything invalid); the caller
// then decodes with encoding/json, which also produces the error. FuzzFrame
// checks the two agree on every input.
//
// Why not only encoding/json: a Conversations init took 10 µs and 39
// allocations to decode, the largest share of a server's init handshake, and
// its deep reflective recursion grows every new reader goroutine's stack.
func decodeHeader(raw []byte, h *Header) bool {
	d := scanner{b: raw}
	var seen uint32
	ok := d.object(func(key []byte) bool {
		f, known := headerFields[string(key)]
		if !known {
			return d.unknown(key, headerFieldNames)
		}
		if seen&(1<<f) != 0 {
			return false // duplicate key: leave the merge semantics to encoding/json
		}
		seen |= 1 << f
		return d.headerField(f, h)
	})
	if !ok {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// Header fields by JSON name.
const (
	fID = iota
	fMethod
	fPayloadType
	fPayloadSize
	fStatus
	fToken
	fContinuationToken
	fMetadata
	fRegistrations
	fTweaks
	fCapabilities
	fContinuationTokenStatus
	fOfflineStorage
	fInitRegistrations
	fDebugInfo
	fClientUpdateType
	fMessageType
	fActiveGrant
	fHTTPRequest
	fHTTPStatus
	fHTTPHeaders
	fEvents
)

var headerFieldNames = []string{
	"id", "method", "payload_type", "payload_size", "status", "token", "continuation_token", "metadata",
	"registrations", "tweaks", "capabilities", "continuation_token_status", "offline_storage",
	"init_registrations", "debug_info", "client_update_type", "message_type", "active_grant",
	"http_request", "http_status", "http_headers", "events",
}

var headerFields = func() map[string]int {
	m := make(map[string]int, len(headerFieldNames))
	for i, n := range headerFieldNames {
		m[n] = i
	}
	return m
}()

func (d *scanner) headerField(f int, h *Header) bool {
	switch f {
	case fID:
		return d.str(&h.ID)
	case fMethod:
		return d.str(&h.Method)
	case fPayloadType:
		return d.str(&h.PayloadType)
	case fPayloadSize:
		return d.int(&h.PayloadSize)
	case fToken:
		return d.str(&h.Token)
	case fClientUpdateType:
		return d.str(&h.ClientUpdateType)
	case fMessageType:
		return d.str(&h.MessageType)
	case fActiveGrant:
		return d.str(&h.ActiveGrant)
	case fContinuationToken:
		if d.null() {
			h.ContinuationToken = nil
			return true
		}
		var s string
		if !d.str(&s) {
			return false
		}
		h.ContinuationToken = &s
		return true
	case fStatus:
		if d.null() {
			h.Status = nil
			return true
		}
		h.Status = new(Status)
		return d.status(h.Status)
	case fMetadata:
		if d.null() {
			h.Metadata = nil
			return true
		}
		h.Metadata = new(Metadata)
		return d.metadata(h.Metadata)
	case fRegistrations:
		return d.registrations(&h.Registrations)
	case fInitRegistrations:
		return d.registrations(&h.InitRegistrations)
	case fCapabilities:
		return d.strings(&h.Capabilities)
	case fTweaks:
		return d.raw(&h.Tweaks)
	case fDebugInfo:
		return d.raw(&h.DebugInfo)
	case fHTTPStatus:
		if d.null() {
			h.HTTPStatus = nil
			return true
		}
		h.HTTPStatus = new(HTTPStatus)
		return d.httpStatus(h.HTTPStatus)
	case fContinuationTokenStatus:
		return d.delegate(&h.ContinuationTokenStatus)
	case fOfflineStorage:
		return d.delegate(&h.OfflineStorage)
	case fHTTPRequest:
		return d.delegate(&h.HTTPRequest)
	case fHTTPHeaders:
		return d.delegate(&h.HTTPHeaders)
	case fEvents:
		return d.delegate(&h.Events)
	}
	return false
}

var statusFields = []string{"code", "status", "errorCode", "description"}

func (d *scanner) status(s *Status) bool {
	var seen uint32
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "code":
			return once(&seen, 0) && d.int(&s.Code)
		case "status":
			return once(&seen, 1) && d.str(&s.Status)
		case "errorCode":
			return once(&seen, 2) && d.int(&s.ErrorCode)
		case "description":
			return once(&seen, 3) && d.str(&s.Description)
		}
		return d.unknown(key, statusFields)
	})
}

var httpStatusFields = []string{"code", "status"}

func (d *scanner) httpStatus(s *HTTPStatus) bool {
	var seen uint32
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "code":
			return once(&seen, 0) && d.int(&s.Code)
		case "status":
			return once(&seen, 1) && d.str(&s.Status)
		}
		return d.unknown(key, httpStatusFields)
	})
}

var metadataFields = []string{"ver", "env", "envv", "os", "osv", "osa", "type", "sdk", "sdkv"}

func (d *scanner) metadata(m *Metadata) bool {
	var seen uint32
	return d.object(func(key []byte) bool {
		switch string(key) {
		case "ver":
			return once(&seen, 0) && d.str(&m.Ver)
		case "env":
			return once(&seen, 1) && d.str(&m.Env)
		case "envv":
			return once(&seen, 2) && d.str(&m.EnvV)
		case "os":
			return once(&seen, 3) && d.str(&m.OS)
		case "osv":
			return once(&seen, 4) && d.str(&m.OSV)
		case "osa":
			return once(&seen, 5) && d.int(&m.OSA)
		case "type":
			return once(&seen, 6) && d.str(&m.Type)
		case "sdk":
			return once(&seen, 7) && d.str(&m.SDK)
		case "sdkv":
			return once(&seen, 8) && d.str(&m.SDKV)
		}
		return d.unknown(key, metadataFields)
	})
}

var registrationFields = []string{"product", "type", "notification_protocol_version", "message_types"}

func (d *scanner) registrations(out *[]Registration) bool {
	if d.null() {
		*out = nil
		return true
	}
	regs := []Registration{}
	ok := d.array(func() bool {
		var r Registration
		var seen uint32
		if !d.object(func(key []byte) bool {
			switch string(key) {
			case "product":
				return once(&seen, 0) && d.str(&r.Product)
			case "type":
				return once(&seen, 1) && d.str(&r.Type)
			case "notification_protocol_version":
				return once(&seen, 2) && d.int(&r.NotificationProtocolVersion)
			case "message_types":
				return once(&seen, 3) && d.strings(&r.MessageTypes)
			}
			return d.unknown(key, registrationFields)
		}) {
			return false
		}
		regs = append(regs, r)
		return true
	})
	*out = regs
	return ok
}

func once(seen *uint32, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// scanner walks JSON text. Every method leaves i after what it consumed and
// returns false on anything it does not handle.
type scanner struct {
	b []byte
	i int
}

func (d *scanner) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object calls member for each key, with i at the member's value.
func (d *scanner) object(member func(key []byte) bool) bool {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return true
	}
	for {
		d.ws()
		key, ok := d.plainString()
		if !ok {
			return false
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return false
		}
		d.i++
		d.ws()
		if !member(key) {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// array calls elem for each element, with i at the element.
func (d *scanner) array(elem func() bool) bool {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return false
	}
	d.i++
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return true
	}
	for {
		d.ws()
		if !elem() {
			return false
		}
		d.ws()
		if d.i >= len(d.b) {
			return false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return true
		default:
			return false
		}
	}
}

// plainString reads a string with no escapes and no control characters, in
// valid UTF-8: what encoding/json would take byte for byte.
func (d *scanner) plainString() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			d.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

func (d *scanner) null() bool {
	if bytes.HasPrefix(d.b[d.i:], []byte("null")) {
		d.i += 4
		return true
	}
	return false
}

// str reads a string; null leaves *s alone, as encoding/json does.
func (d *scanner) str(s *string) bool {
	if d.null() {
		return true
	}
	b, ok := d.plainString()
	if ok {
		*s = string(b)
	}
	return ok
}

// int reads an integer literal that fits comfortably in an int; a fraction,
// an exponent or a long number is left to encoding/json.
func (d *scanner) int(n *int) bool {
	if d.null() {
		return true
	}
	j := d.i
	neg := j < len(d.b) && d.b[j] == '-'
	if neg {
		j++
	}
	start := j
	v := 0
	for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
		v = v*10 + int(d.b[j]-'0')
		j++
	}
	digits := j - start
	if digits == 0 || digits > 15 || (digits > 1 && d.b[start] == '0') {
		return false
	}
	if j < len(d.b) {
		switch d.b[j] {
		case '.', 'e', 'E':
			return false
		}
	}
	if neg {
		v = -v
	}
	*n = v
	d.i = j
	return true
}

func (d *scanner) strings(out *[]string) bool {
	if d.null() {
		*out = nil
		return true
	}
	ss := []string{}
	ok := d.array(func() bool {
		var s string
		if !d.str(&s) {
			return false
		}
		ss = append(ss, s)
		return true
	})
	*out = ss
	return ok
}

// raw stores a value as it appears, as json.RawMessage does.
func (d *scanner) raw(out *json.RawMessage) bool {
	start := d.i
	if !d.skip(0) {
		return false
	}
	*out = append((*out)[:0], d.b[start:d.i]...)
	return true
}

// delegate leaves a rarely sent field to encoding/json.
func (d *scanner) delegate(v any) bool {
	start := d.i
	if !d.skip(0) {
		return false
	}
	return json.Unmarshal(d.b[start:d.i], v) == nil
}

// unknown skips the value of a key no field has, unless encoding/json would
// match it to one regardless of case.
func (d *scanner) unknown(key []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return d.skip(0)
}

// skip passes over one valid JSON value. Strings may hold escapes and any
// bytes but control characters, as encoding/json accepts them.
func (d *scanner) skip(depth int) bool {
	if depth > 64 {
		return false
	}
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == '{':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == '}' {
			d.i++
			return true
		}
		for {
			d.ws()
			if !d.skipString() {
				return false
			}
			d.ws()
			if d.i >= len(d.b) || d.b[d.i] != ':' {
				return false
			}
			d.i++
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			if d.b[d.i] == '}' {
				d.i++
				return true
			}
			if d.b[d.i] != ',' {
				return false
			}
			d.i++
		}
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			if d.b[d.i] == ']' {
				d.i++
				return true
			}
			if d.b[d.i] != ',' {
				return false
			}
			d.i++
		}
	case c == '"':
		return d.skipString()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	default:
		return d.skipNumber()
	}
}

func (d *scanner) literal(lit string) bool {
	if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
		d.i += len(lit)
		return true
	}
	return false
}

func (d *scanner) skipString() bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(d.b) {
				return false
			}
			switch d.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(d.b) {
					return false
				}
				for _, h := range d.b[j+1 : j+5] {
					if !isHex(h) {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipNumber passes over a number in JSON's grammar.
func (d *scanner) skipNumber() bool {
	j := d.i
	if j < len(d.b) && d.b[j] == '-' {
		j++
	}
	switch {
	case j < len(d.b) && d.b[j] == '0':
		j++
	case j < len(d.b) && d.b[j] >= '1' && d.b[j] <= '9':
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
	default:
		return false
	}
	if j < len(d.b) && d.b[j] == '.' {
		j++
		k := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == k {
			return false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		k := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == k {
			return false
		}
	}
	d.i = j
	return true
}
