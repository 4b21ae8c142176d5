package inspect

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/debuglog"
)

// Twilio SID prefixes convctl checks for, and the prefixes people most often
// paste in their place.
const (
	prefixAccount    = "AC"
	prefixAPIKey     = "SK"
	prefixService    = "IS"
	prefixApp        = "AP"
	prefixCredential = "CR"
)

// sidKinds names the SID prefixes a user is likely to have at hand, so a
// message can say "that is a Messaging Service SID" rather than "bad prefix".
var sidKinds = map[string]string{
	"AC": "an Account SID",
	"SK": "an API Key SID",
	"IS": "a Conversations or Sync Service SID",
	"MG": "a Messaging Service SID",
	"CH": "a Conversation SID",
	"AP": "a TwiML App SID",
	"CR": "a Push Credential SID",
	"PN": "a Phone Number SID",
	"US": "a Conversations User SID",
	"MB": "a Conversations Participant SID",
	"IM": "a Conversations Message SID",
	"SM": "a Message SID",
	"MM": "a Message SID",
	"RM": "a Video Room SID",
	"VA": "a Verify Service SID",
	"WS": "a TaskRouter Workspace SID",
	"RL": "a Role SID",
	"KS": "a Sync Service SID",
}

const sidHexLen = 32

// isSID reports whether s is prefix followed by 32 lowercase hex digits.
func isSID(s, prefix string) bool {
	if len(s) != len(prefix)+sidHexLen || s[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// sidKind names what s is when it looks like a SID of another kind: "a
// Messaging Service SID (MG…)". It returns "" when s does not look like a SID.
func sidKind(s string) string {
	if len(s) != 2+sidHexLen || !isUpper(s[0]) || !isUpper(s[1]) {
		return ""
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !isLowerHex(c) && !(c >= 'A' && c <= 'F') {
			return ""
		}
	}
	if name, ok := sidKinds[s[:2]]; ok {
		return name + " (" + s[:2] + "…)"
	}
	return "a SID with prefix " + s[:2]
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// sidProblem explains why s is not a SID with this prefix, or returns "" when
// it is one. what names the field for the message ("iss").
func sidProblem(s, prefix string) string {
	if isSID(s, prefix) {
		return ""
	}
	if s == "" {
		return "is empty"
	}
	if len(s) >= 2 && s[:2] == prefix {
		rest := s[2:]
		if len(rest) != sidHexLen {
			return fmt.Sprintf("has %d characters after %s; a SID has exactly %d hex digits there", utf8.RuneCountInString(rest), prefix, sidHexLen)
		}
		for i := 0; i < len(rest); i++ {
			if c := rest[i]; c >= 'A' && c <= 'F' {
				return "has uppercase hex digits; Twilio SIDs use lowercase (a-f)"
			}
		}
		return "has characters that are not hex digits after " + prefix
	}
	if kind := sidKind(s); kind != "" {
		return "is " + kind
	}
	return "is not a SID (" + prefix + " followed by 32 hex digits)"
}

// quote renders a value from a token for a message: quoted, escaped (so a
// hostile token cannot drive the terminal) and cut short when long.
func quote(s string) string {
	if kind := debuglog.Sensitive(s); kind != "" {
		return "(a value that looks like " + kind + ", not shown)"
	}
	const max = 48
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max {
				return strconv.Quote(s[:i]) + "…"
			}
			n++
		}
	}
	return strconv.Quote(s)
}
