package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	if len(b)-pos < n {
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
	if !decodeHeader(raw, &f.Header) {
		f.Header = Header{}
		if err := json.Unmarshal(raw, &f.Header); err != nil {
			return nil, jsonErr(pos, raw, err)
		}
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

// jsonErr places a JSON error inside the frame. encoding/json counts a syntax
// error's offset one past the offending byte (or at the end, for input that
// stops short), and a type error's offset one past the value it could not
// store; both are turned into the offset of a byte that is really there.
func jsonErr(hdrStart int, raw []byte, err error) *FrameError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off := int(se.Offset)
		if off > 0 && off <= len(raw) && !(off == len(raw) && strings.HasPrefix(se.Error(), "unexpected end")) {
			off--
		}
		return &FrameError{Offset: hdrStart + off, Reason: "header is not valid JSON: " + err.Error(), Err: errors.Join(ErrMalformed, err)}
	case errors.As(err, &te):
		off := int(te.Offset)
		if off > 0 && off <= len(raw) {
			off--
		}
		return &FrameError{Offset: hdrStart + off,
			Reason: fmt.Sprintf("header field %q holds a JSON %s, want %s", fieldName(te.Field), te.Value, te.Type),
			Err:    errors.Join(ErrMalformed, err)}
	default:
		return &FrameError{Offset: hdrStart, Reason: "header: " + err.Error(), Err: errors.Join(ErrMalformed, err)}
	}
}

// fieldName drops the Go path ("Base.method") encoding/json puts before the JSON name.
func fieldName(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
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
//
// The header is written as the JavaScript SDK writes it, so that a Go client's
// frames are byte for byte the SDK's: fields in declaration order (id first),
// payload_size last, and no HTML escaping of <, > and & (JSON.stringify does
// none).
func Encode(h Message, payload []byte) ([]byte, error) {
	return AppendEncode(nil, h, payload)
}

// AppendEncode is Encode appending to dst. On error dst is returned unchanged.
func AppendEncode(dst []byte, h Message, payload []byte) ([]byte, error) {
	if h == nil {
		return dst, errors.New("twilsock: encode: nil header")
	}
	b := h.base()
	if b.Method == "" {
		return dst, errors.New("twilsock: encode: header has no method")
	}
	if len(payload) > MaxPayloadSize {
		return dst, fmt.Errorf("twilsock: encode: payload of %d bytes: %w", len(payload), ErrTooLarge)
	}
	b.PayloadSize = len(payload)

	e := encoders.Get().(*encoder)
	defer e.release()
	e.buf.Reset()
	if err := e.enc.Encode(h); err != nil {
		return dst, fmt.Errorf("twilsock: encode %s header: %w", b.Method, err)
	}
	hdr := bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})
	// Move payload_size to the end, where the SDK writes it. Base's fields come
	// first in every header (id, method, payload_type, payload_size), and a JSON
	// string value cannot contain the unescaped sequence `"payload_size":`, so
	// the first occurrence is the key itself.
	var sizeField []byte
	if k := bytes.Index(hdr, []byte(`,"payload_size":`)); k > 0 {
		end := k + len(`,"payload_size":`)
		for end < len(hdr) && hdr[end] >= '0' && hdr[end] <= '9' {
			end++
		}
		sizeField = hdr[k:end]
		if end != len(hdr)-1 {
			e.tmp = append(append(append(e.tmp[:0], hdr[:k]...), hdr[end:len(hdr)-1]...), sizeField...)
			e.tmp = append(e.tmp, '}')
			hdr = e.tmp
		}
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

// encoder is a reusable JSON encoder with HTML escaping off; pooled because
// json.NewEncoder allocates and frames are encoded on every hot path.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	tmp []byte
}

func (e *encoder) release() {
	// A pooled buffer sized for one outsized header would be held forever.
	if e.buf.Cap() <= 16<<10 && cap(e.tmp) <= 16<<10 {
		encoders.Put(e)
	}
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// IsJSONPayload reports whether a payload_type announces JSON (absent, or application/json…).
func IsJSONPayload(payloadType string) bool {
	return payloadType == "" || bytes.HasPrefix([]byte(payloadType), []byte("application/json"))
}
