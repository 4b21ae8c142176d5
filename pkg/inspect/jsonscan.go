package inspect

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// A token's header and payload are small JSON objects of which Inspect needs
// a dozen fields. Decoding them into maps (what a generic JWT parser does)
// costs more than every rule together, so Inspect checks each part once with
// json.Valid and then walks it here, reading only what a rule needs.
//
// Every function below assumes its input already passed json.Valid; on
// anything else the results are meaningless but never a panic or a hang.

// jsonDoc is one validated JSON text, held both as bytes (for the walk) and
// as a string of the same bytes (so strings without escapes are substrings,
// not allocations).
type jsonDoc struct {
	b []byte
	s string
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
	if strings.IndexByte(inner, '\\') < 0 {
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
	kEnd := stringEnd(b, i)
	key, _ = jsonValue{doc: m.doc, start: i, end: kEnd}.str()
	i = skipSpace(b, kEnd)
	if i >= len(b) || b[i] != ':' {
		m.doc = nil
		return "", jsonValue{}, false
	}
	i = skipSpace(b, i+1)
	vEnd := valueEnd(b, i)
	m.i = vEnd
	return key, jsonValue{doc: m.doc, start: i, end: vEnd}, true
}

// root returns the document's top-level value.
func (d *jsonDoc) root() jsonValue {
	i := skipSpace(d.b, 0)
	return jsonValue{doc: d, start: i, end: valueEnd(d.b, i)}
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

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
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
