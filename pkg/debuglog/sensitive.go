package debuglog

import "strings"

// Kinds of credential Sensitive recognises.
const (
	KindToken  = "an Access Token (JWT)"
	KindSecret = "a secret"
)

// Sensitive says what kind of credential s looks like, KindToken or
// KindSecret, or returns "" when it looks like neither. It is for the places
// that would quote a value back to the user (an error about a flag, a file
// name, a variable name): a value that looks like a credential is described,
// never quoted, since the likeliest story is that the credential itself was
// pasted where its name or path belonged.
//
// KindToken: text RedactJWTs would change, or three or more dot-separated
// base64url parts of at least 8 characters each. KindSecret: one word of 16 to
// 512 characters of [A-Za-z0-9_+=-] mixing letters and digits the way random
// strings do (an API Key secret, an Auth Token), which excludes environment
// variable names (A_NAME_2), Twilio SIDs (two capitals and hex) and paths
// (any '/' or '.').
func Sensitive(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if RedactJWTs(s) != s || dottedToken(s) {
		return KindToken
	}
	if randomWord(s) {
		return KindSecret
	}
	return ""
}

// dottedToken reports three or more base64url parts of 8+ characters joined
// by dots: the shape of a JWT even when its parts do not decode.
func dottedToken(s string) bool {
	parts := 0
	for part := range strings.SplitSeq(s, ".") {
		if len(part) < 8 {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isB64URL(part[i]) {
				return false
			}
		}
		parts++
	}
	return parts >= 3
}

func randomWord(s string) bool {
	if len(s) < 16 || len(s) > 512 {
		return false
	}
	letters, digits, transitions := 0, 0, 0
	upperOnly, underscore := true, false
	prev := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		var class byte
		switch {
		case c >= 'a' && c <= 'z':
			class, upperOnly = 'a', false
			letters++
		case c >= 'A' && c <= 'Z':
			class = 'A'
			letters++
		case c >= '0' && c <= '9':
			class = '0'
			digits++
		case c == '_':
			class, underscore = '_', true
		case c == '-' || c == '+' || c == '=': // not '/': a word with one is a path
			class, upperOnly = '-', false
		default:
			return false
		}
		if prev != 0 && class != prev {
			transitions++
		}
		prev = class
	}
	if upperOnly && underscore { // ENV_VAR_NAME_2
		return false
	}
	if isSIDLike(s) {
		return false
	}
	return letters >= 2 && digits >= 2 && transitions >= 5
}

// isSIDLike: two capital letters and hex digits, as every Twilio SID (AC…,
// SK…, IS…) is; a SID names a resource and is not secret.
func isSIDLike(s string) bool {
	if len(s) < 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
