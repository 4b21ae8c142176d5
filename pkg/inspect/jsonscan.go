package inspect

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A token's header and payload are small JSON objects of which Inspect needs
// a dozen fields. Decoding them into maps (what a generic JWT parser does)
// costs more than every rule together, so Inspect checks each part once with
// validJSON and then walks it here, reading only what a rule needs.
//
// Every walking function assumes its input already passed validJSON; on
// anything else the results are meaningless but never a panic or a hang.

// jsonDoc is one validated JSON text, held both as bytes (for the walk) and
// as a string of the same bytes (so strings without escapes are substrings,
// not allocations).
type jsonDoc struct {
	b     []byte
	s     string
	plain bool  // no backslash anywhere: strings need no unescaping, quotes end them
	spans spans // where the first objects and arrays end, noted by validJSON
}

// spans remembers where containers end, so walking past the grants object
// (and each grant) does not rescan it byte by byte. A token has a handful.
type spans struct {
	n int
	s [16][2]int32 // start, end
}

func (sp *spans) add(start, end int) {
	if sp != nil && sp.n < len(sp.s) && end <= math.MaxInt32 {
		sp.s[sp.n] = [2]int32{int32(start), int32(end)}
		sp.n++
	}
}

func (sp *spans) end(start int) (int, bool) {
	for i := 0; i < sp.n; i++ {
		if int(sp.s[i][0]) == start {
			return int(sp.s[i][1]), true
		}
	}
	return 0, false
}

// valueEnd returns the index just past the value starting at d.b[i].
func (d *jsonDoc) valueEnd(i int) int {
	if i < len(d.b) && (d.b[i] == '{' || d.b[i] == '[') {
		if e, ok := d.spans.end(i); ok {
			return e
		}
	}
	return valueEnd(d.b, i, d.plain)
}

type jsonKind byte

const (
	kindNone   jsonKind = 0
	kindString jsonKind = '"'
	kindObject jsonKind = '{'
	kindArray  jsonKind = '['
	kindBool   jsonKind = 'b'
	kindNull   jsonKind = 'n'
	kindNumber jsonKind = '0'
)

// jsonValue is a value inside a jsonDoc: the half-open byte range [start, end).
type jsonValue struct {
	doc        *jsonDoc
	start, end int
}

func (v jsonValue) present() bool { return v.doc != nil }

func (v jsonValue) kind() jsonKind {
	if v.doc == nil || v.start >= v.end {
		return kindNone
	}
	switch c := v.doc.b[v.start]; c {
	case '"', '{', '[':
		return jsonKind(c)
	case 't', 'f':
		return kindBool
	case 'n':
		return kindNull
	default:
		return kindNumber
	}
}

// kindName is how messages name what was found instead of what was wanted.
func (v jsonValue) kindName() string {
	switch v.kind() {
	case kindString:
		return "a string"
	case kindObject:
		return "an object"
	case kindArray:
		return "an array"
	case kindBool:
		return "a boolean"
	case kindNull:
		return "null"
	case kindNumber:
		return "a number"
	}
	return "missing"
}

// str returns the value as a Go string; ok is false when it is not a JSON string.
func (v jsonValue) str() (string, bool) {
	if v.kind() != kindString {
		return "", false
	}
	raw := v.doc.s[v.start:v.end]
	if len(raw) < 2 {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if v.doc.plain || strings.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if err := json.Unmarshal(v.doc.b[v.start:v.end], &s); err != nil {
		return "", false
	}
	return s, true
}

// boolean returns the value as a bool; ok is false when it is not true or false.
func (v jsonValue) boolean() (val, ok bool) {
	if v.kind() != kindBool {
		return false, false
	}
	return v.doc.b[v.start] == 't', true
}

// number returns the value as a float64; ok is false when it is not a JSON
// number or does not fit one. Integers of up to 15 digits, which every
// NumericDate is, take a path that neither allocates nor rounds.
func (v jsonValue) number() (float64, bool) {
	if v.kind() != kindNumber {
		return 0, false
	}
	raw := v.doc.s[v.start:v.end]
	neg := false
	digits := raw
	if digits != "" && digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if n := len(digits); n > 0 && n <= 15 {
		var x int64
		plain := true
		for i := 0; i < n; i++ {
			c := digits[i]
			if c < '0' || c > '9' {
				plain = false
				break
			}
			x = x*10 + int64(c-'0')
		}
		if plain {
			if neg {
				x = -x
			}
			return float64(x), true
		}
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// members iterates over an object's members in document order.
type members struct {
	doc *jsonDoc
	i   int
	end int
}

// members returns an iterator over an object value's members; it yields
// nothing when v is not an object.
// pick returns the members named names[0..3] of an object in that order,
// the last one winning when a key repeats; absent ones are zero. It reads the
// object once, and returns an array rather than filling a slice so that the
// values (which point into the judge's documents) do not escape to the heap.
func (v jsonValue) pick(names ...string) (out [4]jsonValue) {
	m := v.members()
	for {
		k, val, ok := m.next()
		if !ok {
			return out
		}
		for i, n := range names[:min(len(names), len(out))] {
			if k == n {
				out[i] = val
			}
		}
	}
}

func (v jsonValue) members() members {
	if v.kind() != kindObject {
		return members{}
	}
	return members{doc: v.doc, i: v.start + 1, end: v.end}
}

// next returns the next member's key and value; ok is false after the last.
func (m *members) next() (key string, val jsonValue, ok bool) {
	if m.doc == nil {
		return "", jsonValue{}, false
	}
	b := m.doc.b[:m.end]
	i := skipSpace(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		m.doc = nil
		return "", jsonValue{}, false
	}
	kEnd := stringEnd(b, i, m.doc.plain)
	key, _ = jsonValue{doc: m.doc, start: i, end: kEnd}.str()
	i = skipSpace(b, kEnd)
	if i >= len(b) || b[i] != ':' {
		m.doc = nil
		return "", jsonValue{}, false
	}
	i = skipSpace(b, i+1)
	vEnd := m.doc.valueEnd(i)
	m.i = vEnd
	return key, jsonValue{doc: m.doc, start: i, end: vEnd}, true
}

// root returns the document's top-level value.
func (d *jsonDoc) root() jsonValue {
	i := skipSpace(d.b, 0)
	return jsonValue{doc: d, start: i, end: d.valueEnd(i)}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"':
// the first quote after it not escaped by an odd run of backslashes.
func stringEnd(b []byte, i int, plain bool) int {
	j := i + 1
	if plain {
		if k := bytes.IndexByte(b[j:], '"'); k >= 0 {
			return j + k + 1
		}
		return len(b)
	}
	for j < len(b) {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int, plain bool) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i, plain)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j, plain) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// maxDepth is encoding/json's nesting limit; validJSON keeps to it so the
// two agree on what is JSON.
const maxDepth = 10000

// validJSON reports whether b is exactly one JSON value (RFC 8259), as
// json.Valid does, and is valid UTF-8, which json.Valid does not check; and
// whether any string in it has an escape. It is a single iterative pass (no
// recursion, so no depth can exhaust the stack) and several times faster
// than json.Valid on token-sized input. It notes in sp (which may be nil)
// where containers end.
func validJSON(b []byte, sp *spans) (ok, escaped bool) {
	const (
		stValue = iota
		stAfterValue
		stKey
	)
	var stackBuf [16]byte
	stack := stackBuf[:0]
	var startBuf [16]int
	starts := startBuf[:0] // where each open container began
	nonASCII := false
	i := skipSpace(b, 0)
	state := stValue
	for {
		switch state {
		case stValue:
			if i >= len(b) {
				return false, false
			}
			switch c := b[i]; c {
			case '{', '[':
				if len(stack) >= maxDepth {
					return false, false
				}
				stack = append(stack, c)
				starts = append(starts, i)
				i = skipSpace(b, i+1)
				if i < len(b) && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
					stack = stack[:len(stack)-1]
					sp.add(starts[len(starts)-1], i+1)
					starts = starts[:len(starts)-1]
					i++
					state = stAfterValue
				} else if c == '{' {
					state = stKey
				}
				continue
			case '"':
				var ok bool
				if i, ok = scanString(b, i, &nonASCII, &escaped); !ok {
					return false, false
				}
			case 't':
				if !hasLiteral(b, i, "true") {
					return false, false
				}
				i += 4
			case 'f':
				if !hasLiteral(b, i, "false") {
					return false, false
				}
				i += 5
			case 'n':
				if !hasLiteral(b, i, "null") {
					return false, false
				}
				i += 4
			default:
				var ok bool
				if i, ok = scanNumber(b, i); !ok {
					return false, false
				}
			}
			state = stAfterValue
		case stAfterValue:
			i = skipSpace(b, i)
			if len(stack) == 0 {
				return i == len(b) && (!nonASCII || utf8.Valid(b)), escaped
			}
			if i >= len(b) {
				return false, false
			}
			top := stack[len(stack)-1]
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if top == '{' {
					state = stKey
				} else {
					state = stValue
				}
			case top + 2:
				stack = stack[:len(stack)-1]
				sp.add(starts[len(starts)-1], i+1)
				starts = starts[:len(starts)-1]
				i++
			default:
				return false, false
			}
		case stKey:
			if i >= len(b) || b[i] != '"' {
				return false, false
			}
			var ok bool
			if i, ok = scanString(b, i, &nonASCII, &escaped); !ok {
				return false, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return false, false
			}
			i = skipSpace(b, i+1)
			state = stValue
		}
	}
}

func hasLiteral(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// scanString checks the string starting at b[i] == '"' and returns the index
// just past it.
func scanString(b []byte, i int, nonASCII, escaped *bool) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		if strPlain[c] {
			continue
		}
		switch {
		case c == '"':
			return j + 1, true
		case c == '\\':
			*escaped = true
			j++
			if j >= len(b) {
				return 0, false
			}
			switch b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(b) {
					return 0, false
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHex(b[k]) {
						return 0, false
					}
				}
				j += 4
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		case c >= 0x80:
			*nonASCII = true
		}
	}
	return 0, false
}

// strPlain marks the bytes a string scan can step over without a second look.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool { return isLowerHex(c) || c >= 'A' && c <= 'F' }

// scanNumber checks the number starting at b[i] and returns the index just past it.
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return 0, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i, _ = digits(b, i)
	default:
		return 0, false
	}
	var ok bool
	if i < len(b) && b[i] == '.' {
		if i, ok = digits(b, i+1); !ok {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digits(b, i); !ok {
			return 0, false
		}
	}
	return i, true
}

// digits returns the index past the run of decimal digits at b[i], and
// whether there was at least one.
func digits(b []byte, i int) (int, bool) {
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	return j, j > i
}
