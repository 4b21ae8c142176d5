package inspect

import "time"

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

// Finding is one thing wrong with (or worth saying about) a token.
type Finding struct {
	Severity    Severity `json:"severity"`
	Code        string   `json:"code"`         // stable snake_case, see the Code constants
	TwilioError *int     `json:"twilio_error"` // the error Twilio would answer, nil when it would accept
	Message     string   `json:"message"`
	Hint        string   `json:"hint"`
}

// Report is everything Inspect learned about a token. Its JSON form is the
// contract's `token inspect -o json` object.
type Report struct {
	Valid            bool           `json:"valid"`
	Signature        string         `json:"signature"`
	Header           map[string]any `json:"header"`
	Claims           map[string]any `json:"claims"`
	Identity         string         `json:"identity"`
	AccountSID       string         `json:"account_sid"`
	APIKeySID        string         `json:"api_key_sid"`
	Grants           []string       `json:"grants"`
	Region           string         `json:"region,omitempty"` // header twr
	IssuedAt         *time.Time     `json:"issued_at"`
	NotBefore        *time.Time     `json:"not_before"`
	ExpiresAt        *time.Time     `json:"expires_at"`
	LifetimeSeconds  *int64         `json:"lifetime_seconds"`
	ExpiresInSeconds *int64         `json:"expires_in_seconds"`
	AboutToExpireAt  *time.Time     `json:"about_to_expire_at"`
	Findings         []Finding      `json:"findings"`
}

// FirstError returns the first finding of severity error, or nil when the token is valid.
func (r *Report) FirstError() *Finding {
	for i := range r.Findings {
		if r.Findings[i].Severity == SeverityError {
			return &r.Findings[i]
		}
	}
	return nil
}
