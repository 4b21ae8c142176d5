package twilsock

// Close codes a server sends in a close frame's status.
const (
	CloseOffload      = 308 // reconnect after backoff_policy.reconnect_min_ms
	CloseUnauthorized = 401 // authentication failed: disconnect, no retry
	CloseTokenExpired = 410 // token expired: disconnect, tokenExpired, no retry
	CloseNotAccepted  = 406 // protocol error: fatal
	CloseExpectation  = 417 // protocol error: fatal
)

// CloseAction is what the SDK does on a server close with a given code.
type CloseAction int

const (
	CloseActionReconnect  CloseAction = iota // offload, and any code not named below
	CloseActionDisconnect                    // 401, 410
	CloseActionFatal                         // 406, 417
)

// ActionForClose says how the SDK treats a server close with this status code.
func ActionForClose(code int) CloseAction {
	switch code {
	case CloseUnauthorized, CloseTokenExpired:
		return CloseActionDisconnect
	case CloseNotAccepted, CloseExpectation:
		return CloseActionFatal
	default:
		return CloseActionReconnect
	}
}

// ErrorInfo describes one Twilio error code.
type ErrorInfo struct {
	Code  int
	Name  string // Twilio's own title
	Cause string // what usually causes it
}

// Twilio error codes a Twilsock server answers for tokens.
const (
	ErrInvalidToken      = 20101
	ErrInvalidHeader     = 20102
	ErrInvalidIssuer     = 20103
	ErrTokenExpired      = 20104
	ErrTokenNotYetValid  = 20105
	ErrInvalidGrants     = 20106
	ErrInvalidSignature  = 20107
	ErrAuthFailed        = 20151
	ErrExpiryExceedsMax  = 20157
	ErrInvalidJWT        = 20160
	ErrTokenAuthRejected = 51007
	ErrUpstreamNotFound  = 20404
)

var catalogue = map[int]ErrorInfo{
	ErrInvalidToken:      {ErrInvalidToken, "Invalid Access Token", "not a JWT at all, or the wrong structure"},
	ErrInvalidHeader:     {ErrInvalidHeader, "Invalid Access Token header", "wrong typ, alg or cty"},
	ErrInvalidIssuer:     {ErrInvalidIssuer, "Invalid Access Token issuer/subject", "bad iss or sub, API key deleted, account suspended, or test credentials"},
	ErrTokenExpired:      {ErrTokenExpired, "Access Token expired or expiration date invalid", "exp in the past or not a number"},
	ErrTokenNotYetValid:  {ErrTokenNotYetValid, "Access Token not yet valid", "nbf in the future, usually clock skew"},
	ErrInvalidGrants:     {ErrInvalidGrants, "Invalid Access Token grants", "grants missing or malformed, or no identity"},
	ErrInvalidSignature:  {ErrInvalidSignature, "Invalid Access Token signature", "wrong API Key secret, or the token was altered"},
	ErrAuthFailed:        {ErrAuthFailed, "Authentication Failed", "generic authentication failure"},
	ErrExpiryExceedsMax:  {ErrExpiryExceedsMax, "Expiration Time Exceeds Maximum Time Allowed", "lifetime over 24 h, often a TTL given in milliseconds"},
	ErrInvalidJWT:        {ErrInvalidJWT, "Invalid Token", "not a valid JWT, or signed by a restricted API key"},
	ErrTokenAuthRejected: {ErrTokenAuthRejected, "Token authentication is rejected", "the client-connection form of a token error"},
	ErrUpstreamNotFound:  {ErrUpstreamNotFound, "Not Found", "the requested resource does not exist"},
}

// Lookup returns what is known of a Twilio error code.
func Lookup(code int) (ErrorInfo, bool) {
	e, ok := catalogue[code]
	return e, ok
}

// Describe returns Twilio's title for a code, or a generic text for an unknown one.
func Describe(code int) string {
	if e, ok := catalogue[code]; ok {
		return e.Name
	}
	return "Authentication Failed"
}

// Codes lists every catalogued code in ascending order.
func Codes() []int {
	return []int{ErrInvalidToken, ErrInvalidHeader, ErrInvalidIssuer, ErrTokenExpired, ErrTokenNotYetValid,
		ErrInvalidGrants, ErrInvalidSignature, ErrAuthFailed, ErrExpiryExceedsMax, ErrInvalidJWT, ErrUpstreamNotFound, ErrTokenAuthRejected}
}

// CloseStatus is the status of a server close with this code, worded as the
// service words it. A 410 carries error 20104, as the SDK expects of an
// expired token; other codes carry no Twilio error.
func CloseStatus(code int) Status {
	switch code {
	case CloseOffload:
		return Status{Code: code, Status: "Permanent Redirect"}
	case CloseUnauthorized:
		return Status{Code: code, Status: "Unauthorized"}
	case CloseTokenExpired:
		return Status{Code: code, Status: "Token expired", ErrorCode: ErrTokenExpired, Description: Describe(ErrTokenExpired)}
	case CloseNotAccepted:
		return Status{Code: code, Status: "Not Acceptable"}
	case CloseExpectation:
		return Status{Code: code, Status: "Expectation Failed"}
	default:
		return Status{Code: code, Status: "Closed"}
	}
}
