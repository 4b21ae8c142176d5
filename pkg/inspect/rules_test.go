package inspect

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Tokens built here by hand, one Twilio rule broken at a time. The claims
// start as what Twilio's helper writes and each case changes what it needs.

const testIat = 1764064800 // 2025-11-25T10:00:00Z

var testAt = time.Unix(testIat+60, 0)

func goodHeader() map[string]any {
	return map[string]any{"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}
}

func goodClaims() map[string]any {
	return map[string]any{
		"jti": testAPIKeySID + "-1764064800",
		"iss": testAPIKeySID,
		"sub": testAccountSID,
		"iat": testIat,
		"exp": testIat + 3600,
		"grants": map[string]any{
			"identity": "alice",
			"chat":     map[string]any{"service_sid": testChatServiceSID},
		},
	}
}

const goodHeaderJSON = `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`

// goodPayloadJSON is goodClaims as text, in a fixed order, for cases that
// need what a map cannot hold (a key twice).
func goodPayloadJSON() string {
	return `{"jti":"` + testAPIKeySID + `-1764064800","grants":{"identity":"alice","chat":{"service_sid":"` + testChatServiceSID + `"}},"iat":1764064800,"exp":1764068400,"iss":"` + testAPIKeySID + `","sub":"` + testAccountSID + `"}`
}

// noncanonical sets the unused low bits of the signature's last character:
// the same bytes decode, but the text differs from what was minted.
func noncanonical(tok string) string {
	last := tok[len(tok)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	return tok[:len(tok)-1] + string(alphabet[i|1])
}

func grantsOf(c map[string]any) map[string]any { return c["grants"].(map[string]any) }

// signRaw signs header and payload JSON text as given with the algorithm
// named (HS256 when it is not an HMAC one).
func signRaw(header, payload string, secret string, alg string) string {
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	idx := hmacIndex(alg)
	if idx < 0 {
		idx = 0
	}
	mac := hmac.New(hmacAlgs[idx].new, []byte(secret))
	mac.Write([]byte(input))
	return input + "." + b64.EncodeToString(mac.Sum(nil))
}

func sign(h, c map[string]any) string {
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	alg, _ := h["alg"].(string)
	return signRaw(string(hb), string(cb), testSecret, alg)
}

func withClaims(edit func(c map[string]any)) string {
	c := goodClaims()
	edit(c)
	return sign(goodHeader(), c)
}

func withHeader(edit func(h map[string]any)) string {
	h := goodHeader()
	edit(h)
	return sign(h, goodClaims())
}

type ruleCase struct {
	name     string
	token    string
	opts     []Option // in addition to the test secret and testAt
	noSecret bool
	errors   []string // error codes in report order
	warnings []string // warning codes in report order
	says     string   // a substring of some finding's message or hint
	sig      string   // expected signature state; "" means don't care
	// lenient marks a token jsonwebtoken accepts although a generic rule
	// fails here: it is stricter about what a Twilio token must be.
	lenient bool
}

func ruleCases() []ruleCase {
	good := sign(goodHeader(), goodClaims())
	parts := strings.Split(good, ".")
	tamperedPayload := b64.EncodeToString([]byte(strings.Replace(string(must(b64.DecodeString(parts[1]))), "alice", "admin", 1)))
	return []ruleCase{
		{name: "good", token: good, sig: SignatureVerified},
		{name: "good without secret", token: good, noSecret: true, sig: SignatureUnchecked},

		// malformed (20101)
		{name: "empty", token: "", errors: []string{CodeMalformed}, says: "token is empty"},
		{name: "one part", token: "notatoken", errors: []string{CodeMalformed}, says: "no dots"},
		{name: "two parts", token: parts[0] + "." + parts[1], errors: []string{CodeMalformed}, says: "signature is missing"},
		{name: "four parts", token: good + ".x", errors: []string{CodeMalformed}, says: "4 parts"},
		{name: "JWE", token: "a.b.c.d.e", errors: []string{CodeMalformed}, says: "JWE"},
		{name: "bearer prefix", token: "Bearer " + good, errors: []string{CodeMalformed}, says: "Bearer"},
		{name: "JSON from token endpoint", token: `{"token":"` + good + `"}`, errors: []string{CodeMalformed}, says: "token field"},
		{name: "quoted", token: `"` + good + `"`, errors: []string{CodeMalformed}, says: "quotes"},
		{name: "trailing newline", token: good + "\n", errors: []string{CodeMalformed}, says: "whitespace"},
		{name: "leading space", token: " " + good, errors: []string{CodeMalformed}, says: "whitespace"},
		{name: "a SID", token: testAPIKeySID, errors: []string{CodeMalformed}, says: "an API Key SID (SK…), not an Access Token"},
		{name: "a secret", token: "0123456789abcdefABCDEF0123456789", errors: []string{CodeMalformed}, says: "API Key secret"},
		{name: "line break", token: good[:40] + "\n" + good[40:], errors: []string{CodeMalformed}, says: "line break"},
		{name: "padded base64", token: parts[0] + "==." + parts[1] + "." + parts[2], errors: []string{CodeMalformed}, says: "padding"},
		{name: "standard base64", token: strings.Replace(parts[0], "J", "+", 1) + "." + parts[1] + "." + parts[2], errors: []string{CodeMalformed}, says: "standard base64"},
		{name: "header not JSON", token: signRaw(`{"alg":"HS256",`, `{}`, testSecret, "HS256"), errors: []string{CodeMalformed, CodeBadIssuer, CodeBadSubject, CodeBadExp, CodeMissingGrant, CodeMissingIdentity}, warnings: []string{CodeBadIat, CodeBadJTI}, says: "header is not JSON"},
		{name: "payload not JSON", token: parts[0] + "." + b64.EncodeToString([]byte("alice")) + "." + parts[2], errors: []string{CodeMalformed, CodeBadSignature}, says: "payload does not decode to JSON"},
		{name: "payload only whitespace", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, " \n", testSecret, "HS256"), errors: []string{CodeMalformed}, says: "payload is empty"},
		{name: "payload truncated JSON", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, `{"iss":`, testSecret, "HS256"), errors: []string{CodeMalformed}, says: "payload is not JSON: unexpected end of JSON input"},
		{name: "payload an array", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, `[1,2]`, testSecret, "HS256"), errors: []string{CodeMalformed}, says: "not an object", sig: SignatureVerified, lenient: true},
		{name: "payload not UTF-8", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, "{\"a\":\"\xff\"}", testSecret, "HS256"), errors: []string{CodeMalformed}, says: "UTF-8", lenient: true},
		{name: "signature not base64url", token: parts[0] + "." + parts[1] + ".abc*def", errors: []string{CodeMalformed}, says: "signature is not base64url", sig: SignatureUnchecked},

		// bad_header (20102)
		{name: "alg none", token: withHeader(func(h map[string]any) { h["alg"] = "none" }), errors: []string{CodeBadHeader}, says: "unsigned", sig: SignatureUnchecked},
		{name: "alg RS256", token: withHeader(func(h map[string]any) { h["alg"] = "RS256" }), errors: []string{CodeBadHeader}, says: "not HMAC", sig: SignatureUnchecked},
		{name: "alg missing", token: withHeader(func(h map[string]any) { delete(h, "alg") }), errors: []string{CodeBadHeader}, says: "no alg"},
		{name: "alg a number", token: withHeader(func(h map[string]any) { h["alg"] = 256 }), errors: []string{CodeBadHeader}, says: "a number"},
		{name: "typ missing", token: withHeader(func(h map[string]any) { delete(h, "typ") }), errors: []string{CodeBadHeader}, says: "no typ", sig: SignatureVerified},
		{name: "typ lowercase", token: withHeader(func(h map[string]any) { h["typ"] = "jwt" }), errors: []string{CodeBadHeader}, says: `typ is "jwt"`},
		{name: "cty missing (generic JWT library)", token: withHeader(func(h map[string]any) { delete(h, "cty") }), errors: []string{CodeBadHeader}, says: "generic JWT libraries leave cty out"},
		{name: "cty wrong", token: withHeader(func(h map[string]any) { h["cty"] = "twilio-fpa;v=2" }), errors: []string{CodeBadHeader}, says: `"twilio-fpa;v=2"`},
		{name: "twr not a string", token: withHeader(func(h map[string]any) { h["twr"] = 1 }), errors: []string{CodeBadHeader}, says: "twr"},
		{name: "every header rule at once", token: withHeader(func(h map[string]any) { h["alg"] = "none"; delete(h, "typ"); delete(h, "cty") }), errors: []string{CodeBadHeader, CodeBadHeader, CodeBadHeader}},

		// bad_issuer / bad_subject (20103)
		{name: "iss is the Account SID", token: withClaims(func(c map[string]any) { c["iss"] = testAccountSID; c["jti"] = testAccountSID + "-1764064800" }), errors: []string{CodeBadIssuer}, says: "Account SID (AC…) where the API Key SID (SK…) belongs"},
		{name: "iss missing", token: withClaims(func(c map[string]any) { delete(c, "iss") }), errors: []string{CodeBadIssuer}, says: "no iss"},
		{name: "iss a number", token: withClaims(func(c map[string]any) { c["iss"] = 7 }), errors: []string{CodeBadIssuer}, says: "a number"},
		{name: "iss uppercase hex", token: withClaims(func(c map[string]any) {
			c["iss"] = "SKFEDCBA9876543210FEDCBA9876543210"
			c["jti"] = "SKFEDCBA9876543210FEDCBA9876543210-1764064800"
		}), errors: []string{CodeBadIssuer}, says: "lowercase"},
		{name: "iss truncated", token: withClaims(func(c map[string]any) { c["iss"] = testAPIKeySID[:20]; c["jti"] = testAPIKeySID[:20] + "-1764064800" }), errors: []string{CodeBadIssuer}, says: "18 characters after SK"},
		{name: "sub is the API Key SID", token: withClaims(func(c map[string]any) { c["sub"] = testAPIKeySID }), errors: []string{CodeBadSubject}, says: "API Key SID (SK…) where the Account SID (AC…) belongs"},
		{name: "sub missing", token: withClaims(func(c map[string]any) { delete(c, "sub") }), errors: []string{CodeBadSubject}, says: "no sub"},
		{name: "sub a Messaging Service", token: withClaims(func(c map[string]any) { c["sub"] = "MG00112233445566778899aabbccddeeff" }), errors: []string{CodeBadSubject}, says: "Messaging Service SID"},
		{name: "iss and sub swapped", token: withClaims(func(c map[string]any) {
			c["iss"], c["sub"] = testAccountSID, testAPIKeySID
			c["jti"] = testAccountSID + "-1764064800"
		}), errors: []string{CodeBadIssuer, CodeBadSubject}, says: "swapped"},

		// bad_signature (20107)
		{name: "wrong secret", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, string(must(b64.DecodeString(parts[1]))), "another secret", "HS256"), errors: []string{CodeBadSignature}, says: "sign with the secret of API Key " + testAPIKeySID, sig: SignatureInvalid},
		{name: "payload altered after signing", token: parts[0] + "." + tamperedPayload + "." + parts[2], errors: []string{CodeBadSignature}, sig: SignatureInvalid},
		{name: "signature cut short", token: good[:len(good)-5], errors: []string{CodeBadSignature}, sig: SignatureInvalid},

		// Ambiguous tokens: parsers disagree on what they say (issue 9, item 8).
		{name: "duplicate identity", token: signRaw(goodHeaderJSON, strings.Replace(goodPayloadJSON(), `"identity":"alice"`, `"identity":"alice","identity":"admin"`, 1), testSecret, "HS256"),
			errors: []string{CodeDuplicateClaim}, says: `grants.identity appears more than once ("alice", then "admin")`, sig: SignatureVerified, lenient: true},
		{name: "expired then valid exp", token: signRaw(goodHeaderJSON, strings.Replace(goodPayloadJSON(), `"exp":1764068400`, `"exp":1764064700,"exp":1764068400`, 1), testSecret, "HS256"),
			errors: []string{CodeDuplicateClaim}, says: "exp appears more than once (1764064700, then 1764068400)", sig: SignatureVerified, lenient: true},
		{name: "duplicate iss, sub, grants", token: signRaw(goodHeaderJSON, `{"iss":"`+testAPIKeySID+`","sub":"`+testAccountSID+`","iss":"`+testAPIKeySID+`","sub":"`+testAccountSID+`","jti":"`+testAPIKeySID+`-1764064800","iat":1764064800,"exp":1764068400,"grants":{},"grants":{"identity":"alice","chat":{"service_sid":"`+testChatServiceSID+`"}}}`, testSecret, "HS256"),
			errors: []string{CodeDuplicateClaim, CodeDuplicateClaim, CodeDuplicateClaim}, lenient: true},
		{name: "duplicate jti warns", token: signRaw(goodHeaderJSON, strings.Replace(goodPayloadJSON(), `"jti":`, `"jti":"x","jti":`, 1), testSecret, "HS256"),
			warnings: []string{CodeDuplicateClaim}, says: "jti appears more than once", sig: SignatureVerified},
		{name: "duplicate alg", token: signRaw(`{"alg":"none","alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`, goodPayloadJSON(), testSecret, "HS256"),
			errors: []string{CodeDuplicateHeader}, says: `header alg appears more than once ("none", then "HS256")`, sig: SignatureVerified, lenient: true},
		{name: "crit with an unknown extension", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","crit":["exp-bound"],"exp-bound":true}`, goodPayloadJSON(), testSecret, "HS256"),
			errors: []string{CodeCritUnsupported}, says: `header crit is ["exp-bound"]`, sig: SignatureVerified, lenient: true},
		{name: "crit not a list", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","crit":"x"}`, goodPayloadJSON(), testSecret, "HS256"),
			errors: []string{CodeCritUnsupported}, says: "not a list of extension names", lenient: true},
		{name: "non-canonical signature", token: noncanonical(good), errors: []string{CodeNoncanonicalSignature}, says: "not canonical base64url", sig: SignatureVerified},
		{name: "non-canonical signature, no secret", token: noncanonical(good), noSecret: true, errors: []string{CodeNoncanonicalSignature}, sig: SignatureUnchecked},
		{name: "exp 1e400", token: withClaims(func(c map[string]any) { c["exp"] = json.Number("1e400") }), errors: []string{CodeBadExp}, says: "exp is 1e400, out of range for a date", lenient: true},
		{name: "iat 1e20", token: withClaims(func(c map[string]any) { c["iat"] = json.Number("1e20") }), errors: []string{CodeBadIat}, says: "iat is 1e20, out of range", lenient: true},
		{name: "nbf -1e300", token: withClaims(func(c map[string]any) { c["nbf"] = json.Number("-1e300") }), errors: []string{CodeBadNbf}, says: "nbf is -1e300, out of range", lenient: true},
		{name: "signature empty", token: parts[0] + "." + parts[1] + ".", errors: []string{CodeBadSignature}, sig: SignatureInvalid},

		// expiry (20104, 20105)
		{name: "expired", token: good, opts: []Option{WithAt(time.Unix(testIat+3600+120, 0))}, errors: []string{CodeExpired}, says: "token expired 2m0s ago"},
		{name: "exp missing", token: withClaims(func(c map[string]any) { delete(c, "exp") }), errors: []string{CodeBadExp}, says: "no exp", lenient: true},
		{name: "exp a string", token: withClaims(func(c map[string]any) { c["exp"] = "1764068400" }), errors: []string{CodeBadExp}, says: `exp is "1764068400"`},
		{name: "exp a date", token: withClaims(func(c map[string]any) { c["exp"] = "2025-11-25T11:00:00Z" }), errors: []string{CodeBadExp}},
		{name: "exp before iat", token: withClaims(func(c map[string]any) { c["exp"] = testIat - 60 }), errors: []string{CodeBadExp, CodeExpired}, says: "1m0s before iat"},
		{name: "not yet valid", token: withClaims(func(c map[string]any) { c["nbf"] = testIat + 600 }), errors: []string{CodeNotYetValid}, says: "not valid for another 9m0s"},
		{name: "nbf a string", token: withClaims(func(c map[string]any) { c["nbf"] = "soon" }), errors: []string{CodeBadNbf}},
		{name: "iat missing", token: withClaims(func(c map[string]any) { delete(c, "iat") }), warnings: []string{CodeBadIat}},
		{name: "iat a string", token: withClaims(func(c map[string]any) { c["iat"] = "now" }), errors: []string{CodeBadIat}},
		{name: "iat and nbf missing: lifetime unknown but exp judged", token: withClaims(func(c map[string]any) { delete(c, "iat") }), opts: []Option{WithAt(time.Unix(testIat+3600, 0))}, errors: []string{CodeExpired}, warnings: []string{CodeBadIat}},

		// lifetime (20157)
		{name: "two days", token: withClaims(func(c map[string]any) { c["exp"] = testIat + 2*86400 }), errors: []string{CodeLifetimeTooLong}, says: "lifetime is 2d0h, over the 24h maximum Twilio allows"},
		{name: "24h and a second", token: withClaims(func(c map[string]any) { c["exp"] = testIat + 86401 }), errors: []string{CodeLifetimeTooLong}},
		{name: "exactly 24h", token: withClaims(func(c map[string]any) { c["exp"] = testIat + 86400 })},
		{name: "ttl in milliseconds", token: withClaims(func(c map[string]any) { c["exp"] = testIat + 3600000 }), errors: []string{CodeLifetimeTooLong}, says: "looks like milliseconds: 3600000 ms would be 1h0m0s"},
		{name: "exp in milliseconds", token: withClaims(func(c map[string]any) { c["exp"] = (testIat + 3600) * 1000 }), errors: []string{CodeLifetimeTooLong}, says: "exp looks like a unix time in milliseconds"},
		{name: "24h after nbf is fine though 25h after iat", token: withClaims(func(c map[string]any) { c["nbf"] = testIat + 3600; c["exp"] = testIat + 3600 + 86400 }), opts: []Option{WithAt(time.Unix(testIat+3601, 0))}},

		// grants (20106)
		{name: "identity missing", token: withClaims(func(c map[string]any) { delete(grantsOf(c), "identity") }), errors: []string{CodeMissingIdentity}},
		{name: "identity empty", token: withClaims(func(c map[string]any) { grantsOf(c)["identity"] = "" }), errors: []string{CodeMissingIdentity}, says: "identity is empty"},
		{name: "identity a number", token: withClaims(func(c map[string]any) { grantsOf(c)["identity"] = 42 }), errors: []string{CodeMissingIdentity}, says: "a number"},
		{name: "grants missing", token: withClaims(func(c map[string]any) { delete(c, "grants") }), errors: []string{CodeMissingGrant, CodeMissingIdentity}},
		{name: "grants an array", token: withClaims(func(c map[string]any) { c["grants"] = []any{"chat"} }), errors: []string{CodeBadGrant, CodeMissingIdentity}},
		{name: "no chat grant for conversations", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "voice": map[string]any{"incoming": map[string]any{"allow": true}}}
		}), errors: []string{CodeMissingGrant}, says: "(the token has: voice)"},
		{name: "legacy ip_messaging grant", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "ip_messaging": map[string]any{"service_sid": testChatServiceSID}}
		}), errors: []string{CodeMissingGrant}, says: "IpMessagingGrant"},
		{name: "identity only, product any", token: withClaims(func(c map[string]any) { c["grants"] = map[string]any{"identity": "alice"} }), opts: []Option{WithProduct(ProductAny)}, errors: []string{CodeMissingGrant}, says: "only an identity"},
		{name: "chat token judged for sync", token: good, opts: []Option{WithProduct(ProductSync)}, errors: []string{CodeMissingGrant}, says: "no data_sync grant"},
		{name: "chat token judged for any", token: good, opts: []Option{WithProduct(ProductAny)}},
		{name: "Messaging Service SID in chat grant", token: withClaims(func(c map[string]any) {
			grantsOf(c)["chat"] = map[string]any{"service_sid": "MG00112233445566778899aabbccddeeff"}
		}), errors: []string{CodeBadGrant}, says: "Messaging Service SID (MG…); the chat grant needs the Conversations Service SID (IS…)"},
		{name: "Conversation SID in chat grant", token: withClaims(func(c map[string]any) {
			grantsOf(c)["chat"] = map[string]any{"service_sid": "CH00112233445566778899aabbccddeeff"}
		}), errors: []string{CodeBadGrant}, says: "a Conversation SID (CH…)"},
		{name: "chat grant without service_sid", token: withClaims(func(c map[string]any) { grantsOf(c)["chat"] = map[string]any{} }), errors: []string{CodeBadGrant}, says: "no service_sid"},
		{name: "chat grant not an object", token: withClaims(func(c map[string]any) { grantsOf(c)["chat"] = testChatServiceSID }), errors: []string{CodeBadGrant}, says: "grant chat is a string"},
		{name: "chat push credential wrong", token: withClaims(func(c map[string]any) {
			grantsOf(c)["chat"] = map[string]any{"service_sid": testChatServiceSID, "push_credential_sid": "XX1"}
		}), errors: []string{CodeBadGrant}, says: "push_credential_sid"},
		{name: "sync grant default service", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "data_sync": map[string]any{"service_sid": "default"}}
		}), opts: []Option{WithProduct(ProductSync)}},
		{name: "sync grant bad service", token: withClaims(func(c map[string]any) { grantsOf(c)["data_sync"] = map[string]any{"service_sid": "IS123"} }), errors: []string{CodeBadGrant}, says: "data_sync.service_sid"},
		{name: "voice grant that allows nothing", token: withClaims(func(c map[string]any) { c["grants"] = map[string]any{"identity": "alice", "voice": map[string]any{}} }), opts: []Option{WithProduct(ProductVoice)}, errors: []string{CodeBadGrant}, says: "neither incoming"},
		{name: "voice app SID wrong", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "voice": map[string]any{"outgoing": map[string]any{"application_sid": testAccountSID}}}
		}), opts: []Option{WithProduct(ProductVoice)}, errors: []string{CodeBadGrant}, says: "an Account SID (AC…)"},
		{name: "voice incoming.allow a string", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "voice": map[string]any{"incoming": map[string]any{"allow": "yes"}, "outgoing": map[string]any{"application_sid": testVoiceAppSID}}}
		}), opts: []Option{WithProduct(ProductVoice)}, errors: []string{CodeBadGrant}, says: "incoming.allow"},
		{name: "video room a number", token: withClaims(func(c map[string]any) {
			c["grants"] = map[string]any{"identity": "alice", "video": map[string]any{"room": 5}}
		}), opts: []Option{WithProduct(ProductVideo)}, errors: []string{CodeBadGrant}, says: "video.room"},

		// warnings: Twilio accepts these
		{name: "about to expire", token: good, opts: []Option{WithAt(time.Unix(testIat+3600-100, 0))}, warnings: []string{CodeExpiresSoon}, says: "expires in 1m40s"},
		{name: "under --min-remaining", token: good, opts: []Option{WithMinRemaining(2 * time.Hour)}, errors: []string{CodeExpiresSoon}, says: "less than the 2h0m0s required"},
		{name: "issued in the future", token: good, opts: []Option{WithAt(time.Unix(testIat-300, 0))}, warnings: []string{CodeIssuedInFuture}, says: "issued 5m0s in the future"},
		{name: "short lifetime", token: withClaims(func(c map[string]any) { c["exp"] = testIat + 120 }), opts: []Option{WithAt(time.Unix(testIat, 0))}, warnings: []string{CodeExpiresSoon, CodeShortLifetime}, says: "at once"},
		{name: "HS384", token: sign(map[string]any{"alg": "HS384", "typ": "JWT", "cty": "twilio-fpa;v=1"}, goodClaims()), warnings: []string{CodeUnusualAlg}, sig: SignatureVerified},
		{name: "HS512", token: sign(map[string]any{"alg": "HS512", "typ": "JWT", "cty": "twilio-fpa;v=1"}, goodClaims()), warnings: []string{CodeUnusualAlg}, sig: SignatureVerified},
		{name: "jti missing", token: withClaims(func(c map[string]any) { delete(c, "jti") }), warnings: []string{CodeBadJTI}},
		{name: "jti of another key", token: withClaims(func(c map[string]any) { c["jti"] = "SK00000000000000000000000000000000-1764064800" }), warnings: []string{CodeBadJTI}},
		{name: "jti a number", token: withClaims(func(c map[string]any) { c["jti"] = 1 }), warnings: []string{CodeBadJTI}},

		// escaped keys are the same keys to every JSON reader
		{name: "escaped key", token: signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`,
			`{"jti":"`+testAPIKeySID+`-1764064800","grants":{"identity":"al\u0069ce","chat":{"service_sid":"`+testChatServiceSID+`"}},"iat":1764064800,"exp":1764068400,"\u0069ss":"`+testAPIKeySID+`","sub":"`+testAccountSID+`"}`,
			testSecret, "HS256"), sig: SignatureVerified},
		{name: "everything wrong at once", token: signRaw(`{"alg":"HS256"}`, `{"iss":"AC0123456789abcdef0123456789abcdef","exp":"never","grants":{"chat":{"service_sid":"MG00112233445566778899aabbccddeeff"}}}`, "other", "HS256"),
			errors:   []string{CodeBadHeader, CodeBadHeader, CodeBadIssuer, CodeBadSubject, CodeBadSignature, CodeBadExp, CodeBadGrant, CodeMissingIdentity},
			warnings: []string{CodeBadIat, CodeBadJTI}},
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func (c ruleCase) inspect() *Report {
	opts := []Option{WithAt(testAt)}
	if !c.noSecret {
		opts = append(opts, WithSecret([]byte(testSecret)))
	}
	return Inspect(c.token, append(opts, c.opts...)...)
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases() {
		t.Run(c.name, func(t *testing.T) {
			r := c.inspect()
			var errs, warns []string
			for _, f := range r.Findings {
				if f.Severity == SeverityError {
					errs = append(errs, f.Code)
				} else {
					warns = append(warns, f.Code)
				}
			}
			if !slices.Equal(errs, c.errors) || !slices.Equal(warns, c.warnings) {
				t.Fatalf("errors %v warnings %v, want %v %v\n%s", errs, warns, c.errors, c.warnings, dump(r))
			}
			if r.Valid != (len(c.errors) == 0) {
				t.Errorf("valid %v with errors %v", r.Valid, errs)
			}
			if c.sig != "" && r.Signature != c.sig {
				t.Errorf("signature %s, want %s", r.Signature, c.sig)
			}
			if c.says != "" && !slices.ContainsFunc(r.Findings, func(f Finding) bool { return strings.Contains(f.Message+" | "+f.Hint, c.says) }) {
				t.Errorf("no finding says %q\n%s", c.says, dump(r))
			}
			checkReportInvariants(t, c.token, r)
		})
	}
}

// checkReportInvariants holds for every report, whatever the token.
func checkReportInvariants(t *testing.T, token string, r *Report) {
	t.Helper()
	catalogue := map[string]CodeInfo{}
	for _, ci := range FindingCodes() {
		catalogue[ci.Code] = ci
	}
	hasError := false
	sig := ""
	if i := strings.LastIndexByte(token, '.'); i >= 0 && len(token)-i > 8 {
		sig = token[i+1:]
	}
	for _, f := range r.Findings {
		ci, ok := catalogue[f.Code]
		if !ok {
			t.Errorf("finding code %q is not in FindingCodes", f.Code)
			continue
		}
		if !slices.Contains(ci.Severities, f.Severity) {
			t.Errorf("%s has severity %s; FindingCodes allows %v", f.Code, f.Severity, ci.Severities)
		}
		want := 0
		if f.Severity == SeverityError {
			hasError = true
			want = ci.TwilioError
		}
		switch {
		case want == 0 && f.TwilioError != nil:
			t.Errorf("%s (%s) carries twilio_error %d, want null", f.Code, f.Severity, *f.TwilioError)
		case want != 0 && (f.TwilioError == nil || *f.TwilioError != want):
			t.Errorf("%s carries twilio_error %v, want %d", f.Code, f.TwilioError, want)
		}
		if f.Message == "" || f.Hint == "" {
			t.Errorf("%s has an empty message or hint: %+v", f.Code, f)
		}
		if strings.Contains(f.Message+f.Hint, testSecret) || sig != "" && strings.Contains(f.Message+f.Hint, sig) {
			t.Errorf("%s leaks the secret or the signature: %+v", f.Code, f)
		}
	}
	if r.Valid == hasError {
		t.Errorf("valid %v but has-error %v", r.Valid, hasError)
	}
	for i := 1; i < len(r.Findings); i++ {
		if rank(&r.Findings[i-1]) > rank(&r.Findings[i]) {
			t.Errorf("findings out of order: %s before %s", r.Findings[i-1].Code, r.Findings[i].Code)
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("report does not marshal: %v", err)
	}
	if got, want := r.AppendJSON(nil), reflectJSON(t, r); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
	}
	var back map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // claims may hold numbers no float64 holds, e.g. 1e700
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("report JSON does not parse: %v\n%s", err, b)
	}
	for _, k := range []string{"valid", "signature", "header", "claims", "identity", "account_sid", "api_key_sid", "grants", "issued_at", "not_before", "expires_at", "lifetime_seconds", "expires_in_seconds", "about_to_expire_at", "findings"} {
		if _, ok := back[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	if back["grants"] == nil || back["findings"] == nil {
		t.Errorf("grants and findings must be arrays, never null: %s", b)
	}
}

// TestEveryCodeCovered: the rule table exercises every code FindingCodes
// lists, in every severity it allows.
func TestEveryCodeCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range ruleCases() {
		for _, f := range c.inspect().Findings {
			seen[f.Code+"/"+string(f.Severity)] = true
		}
	}
	for _, ci := range FindingCodes() {
		for _, s := range ci.Severities {
			if !seen[ci.Code+"/"+string(s)] {
				t.Errorf("no rule case produces %s as %s", ci.Code, s)
			}
		}
	}
	// rank() sorts in FindingCodes order.
	codes := FindingCodes()
	for i := 1; i < len(codes); i++ {
		a, b := Finding{Code: codes[i-1].Code, Severity: SeverityError}, Finding{Code: codes[i].Code, Severity: SeverityError}
		if rank(&a) >= rank(&b) {
			t.Errorf("rank(%s) >= rank(%s): FindingCodes and rank disagree on order", a.Code, b.Code)
		}
	}
}

// TestRulesAgreeWithJSONWebToken asks jsonwebtoken, the library Twilio's
// helper signs with, about every case it has an opinion on: tokens Inspect
// judges valid must verify there, and the generic JWT failures (structure,
// signature, exp, nbf) must fail there too.
func TestRulesAgreeWithJSONWebToken(t *testing.T) {
	node := requireNode(t)
	generic := map[string]bool{CodeMalformed: true, CodeBadSignature: true, CodeNoncanonicalSignature: true, CodeExpired: true, CodeNotYetValid: true, CodeBadExp: true, CodeBadNbf: true}
	type req struct {
		Token string `json:"token"`
		At    int64  `json:"at"`
	}
	var in bytes.Buffer
	var cases []ruleCase
	var reports []*Report
	for _, c := range ruleCases() {
		if c.noSecret || c.token == "" {
			continue
		}
		r := c.inspect()
		cases, reports = append(cases, c), append(reports, r)
		line, _ := json.Marshal(req{Token: c.token, At: r.JudgedAt.Unix()})
		in.Write(append(line, '\n'))
	}
	out := runNode(t, node, []string{"--lines"}, testSecret, in.Bytes())
	sc := bufio.NewScanner(bytes.NewReader(out))
	for i := 0; sc.Scan(); i++ {
		var verdict struct {
			OK      bool   `json:"ok"`
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(sc.Bytes(), &verdict); err != nil || i >= len(cases) {
			t.Fatalf("verify-jwt.js answered %q: %v", sc.Text(), err)
		}
		c, r := cases[i], reports[i]
		genericErr := false
		for _, f := range r.Findings {
			if f.Severity == SeverityError && generic[f.Code] {
				genericErr = true
			}
		}
		// jsonwebtoken knows nothing of Twilio's header rules; alg none and
		// RS256 it rejects for its own reasons.
		if c.lenient && !verdict.OK {
			t.Errorf("%s: marked lenient but jsonwebtoken rejects it (%s): drop the mark", c.name, verdict.Message)
		}
		if r.Valid && !verdict.OK {
			t.Errorf("%s: Inspect says valid, jsonwebtoken says %s: %s", c.name, verdict.Error, verdict.Message)
		}
		if genericErr && verdict.OK && !c.lenient {
			t.Errorf("%s: Inspect found %v, jsonwebtoken accepts it", c.name, r.Codes())
		}
	}
}

// requireNode finds node and the interop packages, or skips when node is
// absent outside CI. In CI (CI=true) a missing node fails the test.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		if _, statErr := os.Stat(filepath.Join(interopDir, "node_modules", "jsonwebtoken")); statErr != nil {
			err = statErr
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but the interop suite cannot run: %v (install Node 20 and run npm ci in testdata/interop)", err)
		}
		t.Skipf("skipping the jsonwebtoken cross-check: %v (install Node 20 and run `npm ci` in testdata/interop; in CI this fails)", err)
	}
	return node
}

const interopDir = "../../testdata/interop"

func runNode(t *testing.T, node string, args []string, secret string, stdin []byte) []byte {
	t.Helper()
	cmd := exec.Command(node, append([]string{filepath.Join(interopDir, "verify-jwt.js")}, args...)...)
	cmd.Env = append(os.Environ(), "VERIFY_SECRET="+secret)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("verify-jwt.js: %v\n%s", err, stderr.Bytes())
	}
	return out
}

// plainReport has Report's fields without its MarshalJSON: what
// encoding/json writes by reflection, the reference for AppendJSON.
type plainReport Report

func reflectJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode((*plainReport)(r)); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	reports := []*Report{{}, {Grants: []string{}, Findings: []Finding{}}}
	for _, c := range ruleCases() {
		reports = append(reports, c.inspect())
	}
	odd := Inspect(signRaw(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","twr":"x\u2028y"}`,
		"{\n \"grants\": {\"identity\": \"\\u0000<&>\\b\\f\\u2029\\ud800\x7f\"}\r\n}", testSecret, "HS256"), WithSecret([]byte(testSecret)))
	spaced := Inspect(signRaw(`{ "alg" : "HS256" ,"typ":"JWT","cty":"twilio-fpa;v=1"}`, "{\"grants\" :\t{ \"identity\" : \"a b\\\" c\" } }", testSecret, "HS256"))
	reports = append(reports, odd, spaced)
	for _, r := range reports {
		got, want := r.AppendJSON(nil), reflectJSON(t, r)
		if !bytes.Equal(got, want) {
			t.Errorf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	}
	if !strings.Contains(string(odd.AppendJSON(nil)), `"identity":"\u0000<&>\b\f\u2029`+"\ufffd\x7f") {
		t.Errorf("identity escaped unexpectedly: %s", odd.AppendJSON(nil))
	}
}
