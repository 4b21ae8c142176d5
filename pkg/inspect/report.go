package inspect

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// Severity of a finding.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Signature states, as the JSON report names them.
const (
	SignatureVerified  = "verified"
	SignatureInvalid   = "invalid"
	SignatureUnchecked = "unchecked"
)

// Finding codes. They are stable: scripts match on them (docs/access-tokens.md,
// "convctl's finding codes").
const (
	CodeMalformed       = "malformed"        // not three parts, bad base64, bad JSON (20101)
	CodeBadHeader       = "bad_header"       // typ, cty, or alg none / not HMAC (20102)
	CodeBadIssuer       = "bad_issuer"       // iss not an API Key SID (20103)
	CodeBadSubject      = "bad_subject"      // sub not an Account SID (20103)
	CodeExpired         = "expired"          // exp has passed (20104)
	CodeBadExp          = "bad_exp"          // exp missing, not a number, or before iat (20104)
	CodeNotYetValid     = "not_yet_valid"    // nbf still ahead (20105)
	CodeBadNbf          = "bad_nbf"          // nbf not a number (20105)
	CodeBadIat          = "bad_iat"          // iat missing (warning) or not a number (20101)
	CodeMissingIdentity = "missing_identity" // grants.identity absent or empty (20106)
	CodeMissingGrant    = "missing_grant"    // no grant for the product (20106)
	CodeBadGrant        = "bad_grant"        // a grant with a wrong field (20106)
	CodeBadSignature    = "bad_signature"    // HMAC does not match the secret (20107)
	CodeLifetimeTooLong = "lifetime_too_long"
	CodeExpiresSoon     = "expires_soon"     // warning in the final window, error under WithMinRemaining
	CodeIssuedInFuture  = "issued_in_future" // iat ahead of the judging clock: skew
	CodeShortLifetime   = "short_lifetime"   // under the 3-minute window
	CodeUnusualAlg      = "unusual_alg"      // HS384/HS512: verifies, but Twilio documents HS256
	CodeBadJTI          = "bad_jti"          // jti missing or not "<iss>-<iat>"

	// Ambiguous tokens: parsers and verifiers can read them differently.
	CodeDuplicateHeader       = "duplicate_header"       // a header parameter twice (20102)
	CodeCritUnsupported       = "crit_unsupported"       // a crit header: extensions Twilio does not implement (20102)
	CodeDuplicateClaim        = "duplicate_claim"        // a claim twice: error for iss, sub, iat, nbf, exp, grants and grants' members (20101), warning for jti
	CodeNoncanonicalSignature = "noncanonical_signature" // the signature's last character has unused bits set (20107)
)

// Twilio error codes a finding can carry (docs/access-tokens.md).
const (
	TwilioInvalidToken     = 20101
	TwilioInvalidHeader    = 20102
	TwilioInvalidIssuer    = 20103
	TwilioTokenExpired     = 20104
	TwilioNotYetValid      = 20105
	TwilioInvalidGrants    = 20106
	TwilioInvalidSignature = 20107
	TwilioExpiryTooLong    = 20157
)

// Finding is one thing wrong with (or worth saying about) a token.
type Finding struct {
	Severity    Severity `json:"severity"`
	Code        string   `json:"code"`         // stable snake_case, see the Code constants
	TwilioError *int     `json:"twilio_error"` // the error Twilio would answer, nil when it would accept
	Message     string   `json:"message"`
	Hint        string   `json:"hint"`
}

// Report is everything Inspect learned about a token. Its JSON form is the
// `token inspect -o json` report (docs/json-reports.md, "token inspect").
//
// Header and Claims hold the decoded JSON exactly as the token carries it
// (key order included); they are nil when that part could not be decoded.
// Unmarshal them for other claims: Inspect does not build maps it does not
// need, which is most of why it is fast.
type Report struct {
	Valid            bool            `json:"valid"`
	Signature        string          `json:"signature"`
	Header           json.RawMessage `json:"header"`
	Claims           json.RawMessage `json:"claims"`
	Identity         string          `json:"identity"`
	AccountSID       string          `json:"account_sid"`
	APIKeySID        string          `json:"api_key_sid"`
	Grants           []string        `json:"grants"`
	Region           string          `json:"region,omitempty"` // header twr
	IssuedAt         *time.Time      `json:"issued_at"`
	NotBefore        *time.Time      `json:"not_before"`
	ExpiresAt        *time.Time      `json:"expires_at"`
	LifetimeSeconds  *int64          `json:"lifetime_seconds"`
	ExpiresInSeconds *int64          `json:"expires_in_seconds"`
	AboutToExpireAt  *time.Time      `json:"about_to_expire_at"`
	Findings         []Finding       `json:"findings"`

	// Algorithm is the header's alg when it is a string ("" otherwise).
	Algorithm string `json:"-"`
	// JudgedAt is the instant the token was judged against.
	JudgedAt time.Time `json:"-"`

	// The pointers above point into these, so a report is one allocation
	// rather than seven.
	times    [4]time.Time
	ints     [2]int64
	grantBuf [4]string
}

// FirstError returns the first finding of severity error, or nil when the
// token is valid. Findings are ordered as Twilio is understood to check them
// (structure, header, issuer, signature, expiry, grants), so this is the
// error code Twilio would answer.
func (r *Report) FirstError() *Finding {
	for i := range r.Findings {
		if r.Findings[i].Severity == SeverityError {
			return &r.Findings[i]
		}
	}
	return nil
}

// Has reports whether the report carries a finding with this code.
func (r *Report) Has(code string) bool {
	return r.Find(code) != nil
}

// Find returns the first finding with this code, or nil.
func (r *Report) Find(code string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Code == code {
			return &r.Findings[i]
		}
	}
	return nil
}

// Codes lists the findings' codes in report order.
func (r *Report) Codes() []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.Code
	}
	return out
}

// CodeInfo describes one finding code, for help texts and documentation.
type CodeInfo struct {
	Code       string
	Severities []Severity // the severities a finding with this code can have
	// TwilioError is what Twilio answers when the finding is an error; 0 when
	// Twilio would accept the token anyway (warnings, a minimum remaining).
	TwilioError int
	Summary     string
}

// FindingCodes lists every code Inspect can report, in the order findings
// are sorted.
func FindingCodes() []CodeInfo {
	e, w := SeverityError, SeverityWarning
	return []CodeInfo{
		{CodeMalformed, []Severity{e}, TwilioInvalidToken, "not three base64url parts of JSON objects"},
		{CodeDuplicateHeader, []Severity{e}, TwilioInvalidHeader, "a header parameter (alg, typ, cty, twr, crit) appears twice: verifiers may read different ones"},
		{CodeBadHeader, []Severity{e}, TwilioInvalidHeader, "alg not HS256/384/512, typ not JWT, cty not twilio-fpa;v=1, or twr not a string"},
		{CodeCritUnsupported, []Severity{e}, TwilioInvalidHeader, "a crit header: it names JWS extensions, which a verifier must understand or reject; Twilio implements none"},
		{CodeDuplicateClaim, []Severity{e, w}, TwilioInvalidToken, "a claim appears twice (identity alice, then admin): error for iss, sub, iat, nbf, exp, grants and grants' members, warning for jti"},
		{CodeBadIssuer, []Severity{e}, TwilioInvalidIssuer, "iss is not an API Key SID (SK…)"},
		{CodeBadSubject, []Severity{e}, TwilioInvalidIssuer, "sub is not an Account SID (AC…)"},
		{CodeBadSignature, []Severity{e}, TwilioInvalidSignature, "the HMAC does not match the secret given"},
		{CodeNoncanonicalSignature, []Severity{e}, TwilioInvalidSignature, "the signature's last character has unused bits set: the same bytes, but not the text that was minted"},
		{CodeBadIat, []Severity{e, w}, TwilioInvalidToken, "iat missing (warning) or not a number (error)"},
		{CodeBadExp, []Severity{e}, TwilioTokenExpired, "exp missing, not a number, or not after iat/nbf"},
		{CodeExpired, []Severity{e}, TwilioTokenExpired, "exp has passed"},
		{CodeBadNbf, []Severity{e}, TwilioNotYetValid, "nbf not a number"},
		{CodeNotYetValid, []Severity{e}, TwilioNotYetValid, "nbf is still ahead"},
		{CodeLifetimeTooLong, []Severity{e}, TwilioExpiryTooLong, "exp - (nbf or iat) over 24 hours, often a TTL in milliseconds"},
		{CodeMissingGrant, []Severity{e}, TwilioInvalidGrants, "no grant for the product judged for"},
		{CodeBadGrant, []Severity{e}, TwilioInvalidGrants, "a grant with a wrong field, e.g. a service_sid that is not IS…"},
		{CodeMissingIdentity, []Severity{e}, TwilioInvalidGrants, "grants.identity missing, empty or not a string"},
		{CodeExpiresSoon, []Severity{e, w}, 0, "inside the about-to-expire window (warning) or under the minimum remaining asked for (error)"},
		{CodeIssuedInFuture, []Severity{w}, 0, "iat ahead of the judging clock: clock skew"},
		{CodeShortLifetime, []Severity{w}, 0, "lifetime under the 3-minute about-to-expire window"},
		{CodeUnusualAlg, []Severity{w}, 0, "HS384 or HS512: verifies, but Twilio documents HS256"},
		{CodeBadJTI, []Severity{w}, 0, "jti missing or not \"<iss>-<iat>\""},
	}
}

// MarshalJSON writes the contract's JSON object (see AppendJSON).
func (r *Report) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 1024)), nil
}

// AppendJSON appends the report's JSON object to b: the fields encoding/json
// would write for the struct, in the same order, with no HTML escaping and
// Header and Claims as the token carries them (compacted only if they span
// lines). It exists because `token inspect --batch` spends more on encoding
// reports than on judging tokens when encoding/json does it by reflection.
func (r *Report) AppendJSON(b []byte) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, r.Valid)
	b = append(b, `,"signature":`...)
	b = appendString(b, r.Signature)
	b = append(b, `,"header":`...)
	b = appendRaw(b, r.Header)
	b = append(b, `,"claims":`...)
	b = appendRaw(b, r.Claims)
	b = append(b, `,"identity":`...)
	b = appendString(b, r.Identity)
	b = append(b, `,"account_sid":`...)
	b = appendString(b, r.AccountSID)
	b = append(b, `,"api_key_sid":`...)
	b = appendString(b, r.APIKeySID)
	b = append(b, `,"grants":`...)
	if r.Grants == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, g := range r.Grants {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, g)
		}
		b = append(b, ']')
	}
	if r.Region != "" {
		b = append(b, `,"region":`...)
		b = appendString(b, r.Region)
	}
	b = append(b, `,"issued_at":`...)
	b = appendTime(b, r.IssuedAt)
	b = append(b, `,"not_before":`...)
	b = appendTime(b, r.NotBefore)
	b = append(b, `,"expires_at":`...)
	b = appendTime(b, r.ExpiresAt)
	b = append(b, `,"lifetime_seconds":`...)
	b = appendInt(b, r.LifetimeSeconds)
	b = append(b, `,"expires_in_seconds":`...)
	b = appendInt(b, r.ExpiresInSeconds)
	b = append(b, `,"about_to_expire_at":`...)
	b = appendTime(b, r.AboutToExpireAt)
	b = append(b, `,"findings":`...)
	if r.Findings == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Findings {
			f := &r.Findings[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"severity":`...)
			b = appendString(b, string(f.Severity))
			b = append(b, `,"code":`...)
			b = appendString(b, f.Code)
			b = append(b, `,"twilio_error":`...)
			if f.TwilioError == nil {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendInt(b, int64(*f.TwilioError), 10)
			}
			b = append(b, `,"message":`...)
			b = appendString(b, f.Message)
			b = append(b, `,"hint":`...)
			b = appendString(b, f.Hint)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendInt(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// appendRaw appends a decoded header or payload without insignificant
// whitespace, as encoding/json compacts a RawMessage (and as one object a
// line needs). Inspect admits only valid UTF-8 JSON there.
func appendRaw(b []byte, raw json.RawMessage) []byte {
	if raw == nil {
		return append(b, "null"...)
	}
	// Tokens' JSON is nearly always compact already: a few vectorised
	// searches save a byte-by-byte walk.
	if bytes.IndexByte(raw, ' ') < 0 && bytes.IndexByte(raw, '\t') < 0 && bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return append(b, raw...)
	}
	inString := false
	start := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ' ', '\t', '\n', '\r':
			b = append(b, raw[start:i]...)
			start = i + 1
		}
	}
	return append(b, raw[start:]...)
}

// appendString writes s as encoding/json does without HTML escaping:
// U+2028 and U+2029 are escaped, so the output is safe in JavaScript.
func appendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		q, _ := json.Marshal(s) // replaces invalid bytes as encoding/json always does
		return append(b, q...)
	}
	return appendQuoted(b, s, true)
}
