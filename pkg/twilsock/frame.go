package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Magic starts every frame; the decimal header length follows it.
const Magic = "TWILSOCK V3.0 "

// Limits on what Decode accepts. The real service's frames are a few KiB at most.
const (
	MaxHeaderSize  = 64 << 10
	MaxPayloadSize = 4 << 20
)

// ErrMalformed is matched by every decoding error (errors.Is).
var ErrMalformed = errors.New("malformed twilsock frame")

// ErrTooLarge is matched when a header or payload exceeds the limits.
var ErrTooLarge = errors.New("twilsock frame too large")

// FrameError says what was wrong with a frame and at which byte.
type FrameError struct {
	Offset int    // byte offset into the frame where decoding failed
	Reason string // what was expected there
	Err    error  // ErrMalformed or ErrTooLarge, or a JSON error wrapped in ErrMalformed
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("twilsock frame: byte %d: %s", e.Offset, e.Reason)
}

func (e *FrameError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{e.Err}
}

func frameErr(off int, err error, format string, args ...any) *FrameError {
	return &FrameError{Offset: off, Reason: fmt.Sprintf(format, args...), Err: err}
}

// Frame is one decoded message.
type Frame struct {
	Header    Header
	RawHeader []byte // the header JSON exactly as received (aliases the input)
	Payload   []byte // aliases the input; nil when payload_size is 0
}

// Decode parses one frame. The returned RawHeader and Payload alias b.
func Decode(b []byte) (*Frame, error) {
	if len(b) < len(Magic) || string(b[:len(Magic)]) != Magic {
		for i := 0; i < len(Magic); i++ {
			if i >= len(b) {
				return nil, frameErr(i, ErrMalformed, "frame ends inside the magic %q", Magic)
			}
			if b[i] != Magic[i] {
				return nil, frameErr(i, ErrMalformed, "want %q of magic %q, got %q", Magic[i], Magic, b[i])
			}
		}
	}
	pos := len(Magic)
	start := pos
	n := 0
	for pos < len(b) && b[pos] >= '0' && b[pos] <= '9' {
		if pos-start >= 7 {
			return nil, frameErr(pos, ErrTooLarge, "header length has more than 7 digits")
		}
		n = n*10 + int(b[pos]-'0')
		pos++
	}
	if pos == start {
		if pos >= len(b) {
			return nil, frameErr(pos, ErrMalformed, "frame ends before the header length")
		}
		return nil, frameErr(pos, ErrMalformed, "want a decimal header length, got %q", b[pos])
	}
	if n > MaxHeaderSize {
		return nil, frameErr(start, ErrTooLarge, "header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if err := expectCRLF(b, pos, "after the header length"); err != nil {
		return nil, err
	}
	pos += 2
	if n < 2 {
		return nil, frameErr(pos, ErrMalformed, "header length %d cannot hold a JSON object", n)
	}
	if len(b)-pos < n+2 {
		return nil, frameErr(len(b), ErrMalformed, "frame ends inside the %d-byte header (have %d bytes)", n, len(b)-pos)
	}
	raw := b[pos : pos+n]
	if err := expectCRLF(b, pos+n, "after the header"); err != nil {
		return nil, err
	}
	f := &Frame{RawHeader: raw}
	if raw[0] != '{' {
		return nil, frameErr(pos, ErrMalformed, "header must be a JSON object, starts with %q", raw[0])
	}
	if err := json.Unmarshal(raw, &f.Header); err != nil {
		off := pos
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off += int(se.Offset)
		}
		return nil, &FrameError{Offset: off, Reason: "header is not valid JSON: " + err.Error(), Err: errors.Join(ErrMalformed, err)}
	}
	if f.Header.Method == "" {
		return nil, frameErr(pos, ErrMalformed, "header has no method")
	}
	pos += n + 2
	rest := len(b) - pos
	switch {
	case f.Header.PayloadSize < 0:
		return nil, frameErr(pos, ErrMalformed, "negative payload_size %d", f.Header.PayloadSize)
	case f.Header.PayloadSize > MaxPayloadSize:
		return nil, frameErr(pos, ErrTooLarge, "payload_size %d exceeds the limit of %d bytes", f.Header.PayloadSize, MaxPayloadSize)
	case f.Header.PayloadSize != rest:
		return nil, frameErr(pos, ErrMalformed, "payload_size says %d bytes but %d follow the header", f.Header.PayloadSize, rest)
	}
	if rest > 0 {
		f.Payload = b[pos:]
	}
	return f, nil
}

func expectCRLF(b []byte, pos int, where string) error {
	switch {
	case pos >= len(b):
		return frameErr(pos, ErrMalformed, "frame ends where \\r\\n belongs %s", where)
	case b[pos] != '\r':
		return frameErr(pos, ErrMalformed, "want '\\r' %s, got %q", where, b[pos])
	case pos+1 >= len(b):
		return frameErr(pos+1, ErrMalformed, "frame ends where '\\n' belongs %s", where)
	case b[pos+1] != '\n':
		return frameErr(pos+1, ErrMalformed, "want '\\n' %s, got %q", where, b[pos+1])
	}
	return nil
}

// Encode marshals header (a Header, an Init, or any struct whose JSON carries
// method and id) and frames it with payload. It sets payload_size itself: h's
// own PayloadSize is overwritten to len(payload).
func Encode(h Message, payload []byte) ([]byte, error) {
	return AppendEncode(nil, h, payload)
}

// AppendEncode is Encode appending to dst.
func AppendEncode(dst []byte, h Message, payload []byte) ([]byte, error) {
	b := h.base()
	if b.Method == "" {
		return dst, errors.New("twilsock: encode: header has no method")
	}
	if len(payload) > MaxPayloadSize {
		return dst, fmt.Errorf("twilsock: encode: payload of %d bytes: %w", len(payload), ErrTooLarge)
	}
	b.PayloadSize = len(payload)
	hdr, err := json.Marshal(h)
	if err != nil {
		return dst, fmt.Errorf("twilsock: encode %s header: %w", b.Method, err)
	}
	if len(hdr) > MaxHeaderSize {
		return dst, fmt.Errorf("twilsock: encode: header of %d bytes: %w", len(hdr), ErrTooLarge)
	}
	dst = append(dst, Magic...)
	dst = strconv.AppendInt(dst, int64(len(hdr)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, hdr...)
	dst = append(dst, '\r', '\n')
	dst = append(dst, payload...)
	return dst, nil
}

// IsJSONPayload reports whether a payload_type announces JSON (absent, or application/json…).
func IsJSONPayload(payloadType string) bool {
	return payloadType == "" || bytes.HasPrefix([]byte(payloadType), []byte("application/json"))
}
