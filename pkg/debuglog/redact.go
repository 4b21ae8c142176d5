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
// parts, the first starting with eyJ (the encoding of `{"`).
func looksLikeJWT(s string) bool {
	if !strings.HasPrefix(s, "eyJ") {
		return false
	}
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			dots++
			continue
		}
		if !isB64URL(c) {
			return false
		}
	}
	return dots == 2
}

// RedactJWTs replaces the signature of every JWT-shaped substring of s (such
// as a token inside a raw frame header) with RedactedSignature, keeping the
// header and payload. It returns s itself, without allocating, when there is
// nothing to redact.
//
// The scan is deliberately generous so that no signature can slip through: a
// run of token characters (base64url, '.', and the '+', '/', '=' of standard
// base64) that contains "eyJ" followed by at least two dots has everything after
// the second dot replaced, up to the end of the run. A JWT glued to other
// token characters, or preceded by another "eyJ…" fragment, is therefore still
// covered; the cost is that the visible part may be longer than the token.
func RedactJWTs(s string) string {
	i := strings.Index(s, "eyJ")
	if i < 0 {
		return s
	}
	var b strings.Builder
	last := 0 // s[last:] has not been copied to b yet
	for i >= 0 {
		// i is the first "eyJ" of its run: an earlier one in the same run
		// would have been found first, and has at least as many dots after it.
		end := i
		second := -1
		dots := 0
		for end < len(s) && isTokenChar(s[end]) {
			if s[end] == '.' {
				dots++
				if dots == 2 {
					second = end
				}
			}
			end++
		}
		// Dots ending the run are punctuation ("see eyJ….x.y."), not secret.
		stop := end
		for stop > second+1 && s[stop-1] == '.' {
			stop--
		}
		if second >= 0 && second+1 < stop {
			if b.Cap() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last : second+1])
			b.WriteString(RedactedSignature)
			last = stop
		}
		j := strings.Index(s[end:], "eyJ")
		if j < 0 {
			break
		}
		i = end + j
	}
	if b.Cap() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

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

func isB64URL(c byte) bool {
	return c == '-' || c == '_' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9')
}
