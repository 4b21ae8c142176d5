package debuglog

import (
	"log/slog"
	"strconv"
	"strings"
)

// RedactedSignature replaces a JWT's signature. Its characters are outside the
// base64url alphabet, so redacting already redacted text changes nothing.
const RedactedSignature = "<redacted>"

// Token is an access token that logs with its signature redacted. The header
// and payload stay readable because they are not secret and are what one needs
// when debugging (identity, grants, expiry); the signature alone lets someone
// replay the token.
type Token string

// LogValue implements slog.LogValuer. A value that is not JWT-shaped is not
// shown at all: it may be a secret passed where a token belongs.
func (t Token) LogValue() slog.Value {
	s := string(t)
	if s == "" {
		return slog.StringValue("")
	}
	if !looksLikeJWT(s) {
		return slog.StringValue("[REDACTED: not a JWT, " + strconv.Itoa(len(s)) + " bytes]")
	}
	return slog.StringValue(RedactJWTs(s))
}

// String redacts too, so fmt and %v cannot leak the token either.
func (t Token) String() string { return t.LogValue().String() }

// Secret is a secret (an API Key secret, a password) that never logs.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String keeps fmt from printing the secret.
func (Secret) String() string { return "[REDACTED]" }

// looksLikeJWT reports whether s is exactly one compact JWS: three base64url
// parts, the first two the encoding of a JSON object (whatever its layout:
// `{"alg"…` encodes to eyJ…, a pretty-printed `{\n  "alg"…` to ewog…).
func looksLikeJWT(s string) bool {
	d1 := strings.IndexByte(s, '.')
	if d1 < 0 {
		return false
	}
	d2 := strings.IndexByte(s[d1+1:], '.')
	if d2 < 0 {
		return false
	}
	d2 += d1 + 1
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && !isB64URL(c) {
			return false
		}
	}
	return strings.IndexByte(s[d2+1:], '.') < 0 && objectStart(s[:d1]) && objectStart(s[d1+1:d2])
}

// RedactJWTs replaces the signature of every JWT-shaped substring of s (such
// as a token inside a raw frame header) with RedactedSignature, keeping the
// header and payload, and replaces the value of every JSON "token" field that
// is not already redacted. It returns s itself, without allocating, when there
// is nothing to redact.
//
// JWTs are recognised by structure, not by a prefix: two dot-separated runs
// of base64url that each decode to the start of a JSON object (optional JSON
// whitespace, then '{'; the payload may also be empty), followed by a dot. Everything after that second dot,
// up to the end of the run of token characters (base64url, '.', and the '+',
// '/', '=' of standard base64), is replaced; dots ending the run are kept, as
// punctuation. A header glued to other base64url characters is still found:
// any position of the run before the first dot may start it. The cost of
// being generous is that the visible part may be shorter than the token, or
// that an unlucky non-token (two host labels that decode to '{') loses its
// last part; never that a signature slips through.
func RedactJWTs(s string) string {
	out := redactStructure(s)
	return redactTokenFields(out)
}

// redactStructure is the JWT half of RedactJWTs.
func redactStructure(s string) string {
	// A JWT has two dots: most log text has fewer, or none.
	d := strings.IndexByte(s, '.')
	if d < 0 || strings.IndexByte(s[d+1:], '.') < 0 {
		return s
	}
	var b strings.Builder
	last := 0 // s[last:] has not been copied to b yet
	floor := 0
	for d >= 0 {
		next := d + 1
		if stop, ok := signatureAfter(s, floor, d); ok {
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:stop.start])
			b.WriteString(RedactedSignature)
			last = stop.end
			next = stop.runEnd
		}
		floor = next
		k := strings.IndexByte(s[next:], '.')
		if k < 0 {
			break
		}
		d = next + k
	}
	if b.Cap() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

type sigSpan struct{ start, end, runEnd int }

// signatureAfter decides whether the dot at s[d1] ends the header of a JWT
// (whose header starts no earlier than floor) and, if so, where its signature
// lies: [start, end), with the run of token characters ending at runEnd.
func signatureAfter(s string, floor, d1 int) (sigSpan, bool) {
	// The payload: base64url up to the second dot, decoding to '{'.
	d2 := d1 + 1
	for d2 < len(s) && isB64URL(s[d2]) {
		d2++
	}
	if d2 >= len(s) || s[d2] != '.' || (d2 > d1+1 && !objectStart(s[d1+1:d2])) {
		return sigSpan{}, false
	}
	// The header: base64url ending at d1, starting anywhere in its run.
	start := d1
	for start > floor && isB64URL(s[start-1]) {
		start--
	}
	found := false
	for k := start; k < d1-1; k++ {
		if c := s[k]; (c == 'e' || c == 'I' || c == 'C' || c == 'D') && objectStart(s[k:d1]) {
			found = true
			break
		}
	}
	if !found {
		return sigSpan{}, false
	}
	// The signature: the rest of the run of token characters.
	end := d2 + 1
	for end < len(s) && isTokenChar(s[end]) {
		end++
	}
	runEnd := end
	for end > d2+1 && s[end-1] == '.' {
		end--
	}
	if end == d2+1 {
		return sigSpan{}, false // unsigned, or already redacted
	}
	return sigSpan{start: d2 + 1, end: end, runEnd: runEnd}, true
}

// objectStart reports whether seg, read as base64url, starts with optional
// JSON whitespace and then '{'. Only the first few characters are decoded.
func objectStart(seg string) bool {
	if len(seg) < 2 {
		return false
	}
	// Each group of 4 characters is 3 bytes; JSON whitespace before the
	// brace is allowed for up to 4 groups (a pretty-printer's newline and
	// indent).
	for g := 0; g < 4 && g*4 < len(seg); g++ {
		var v [4]byte
		n := 0
		for n < 4 && g*4+n < len(seg) {
			x := b64Value[seg[g*4+n]]
			if x == 0xff {
				return false
			}
			v[n] = x
			n++
		}
		if n < 2 {
			return false
		}
		bytes := [3]byte{v[0]<<2 | v[1]>>4, v[1]<<4 | v[2]>>2, v[2]<<6 | v[3]}
		for i := 0; i < n-1; i++ {
			switch bytes[i] {
			case ' ', '\t', '\n', '\r':
				continue
			case '{':
				return true
			}
			return false
		}
	}
	return false
}

// redactTokenFields replaces the value of every JSON member named "token"
// (as in a Twilsock init or update frame) after its last dot, or whole when it
// has none, so a token the JWT scan does not recognise (a damaged header, an
// opaque token) still does not show its secret part.
func redactTokenFields(s string) string {
	const key = `"token"`
	i := strings.Index(s, key)
	if i < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i >= 0 {
		j := i + len(key)
		j = skipJSONSpace(s, j)
		if j < len(s) && s[j] == ':' {
			j = skipJSONSpace(s, j+1)
			if j < len(s) && s[j] == '"' {
				vs := j + 1
				ve := len(s)
				if q := strings.IndexByte(s[vs:], '"'); q >= 0 {
					ve = vs + q
				}
				if bs := strings.IndexByte(s[vs:ve], '\\'); bs >= 0 {
					ve = vs + bs // an escape: stop before it, the rest is not a plain token
				}
				secret := vs
				if dot := strings.LastIndexByte(s[vs:ve], '.'); dot >= 0 {
					secret = vs + dot + 1
				}
				if ve > secret && s[secret:ve] != RedactedSignature {
					if b.Cap() == 0 {
						b.Grow(len(s))
					}
					b.WriteString(s[last:secret])
					b.WriteString(RedactedSignature)
					last = ve
				}
				j = ve
			}
		}
		k := strings.Index(s[j:], key)
		if k < 0 {
			break
		}
		i = j + k
	}
	if b.Cap() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// b64Value maps a base64url character to its value, others to 0xff.
var b64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// tokenChars marks base64url, standard base64 and '.' bytes.
var tokenChars = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-_+/=." {
		t[c] = true
	}
	return t
}()

func isTokenChar(c byte) bool { return tokenChars[c] }

func isB64URL(c byte) bool { return b64Value[c] != 0xff }
