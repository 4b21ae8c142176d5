package inspect

import (
	"errors"
	"time"
)

// STUB: the token issue's helper replaces this file with the real implementation.

// Product selects the grant a token must carry.
type Product string

const (
	ProductConversations Product = "conversations"
	ProductSync          Product = "sync"
	ProductVoice         Product = "voice"
	ProductVideo         Product = "video"
	ProductAny           Product = "any"
)

// Option configures Inspect.
type Option func(*config)

type config struct {
	secret       []byte
	now          func() time.Time
	product      Product
	minRemaining time.Duration
}

// WithSecret verifies the signature with this API Key secret.
func WithSecret(secret []byte) Option { return func(c *config) { c.secret = secret } }

// WithClock judges the token as of the time now returns.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithAt judges the token as of t.
func WithAt(t time.Time) Option { return WithClock(func() time.Time { return t }) }

// WithProduct requires the grant of a product (default conversations).
func WithProduct(p Product) Option { return func(c *config) { c.product = p } }

// WithMinRemaining raises expires_soon (error) when less than d is left.
func WithMinRemaining(d time.Duration) Option { return func(c *config) { c.minRemaining = d } }

// Inspect judges a token. It never fails: a token it cannot decode yields a
// report whose findings say why (code malformed).
func Inspect(token string, opts ...Option) *Report { return &Report{Signature: SignatureUnchecked} }

// MintOptions describes the token Mint writes.
type MintOptions struct {
	AccountSID     string
	APIKeySID      string
	Secret         []byte
	Identity       string
	ChatServiceSID string
	SyncServiceSID string
	VoiceAppSID    string
	VideoRoom      string
	TTL            time.Duration // default 1h
	NotBefore      time.Time     // zero: no nbf
	Region         string        // header twr
	Now            time.Time     // zero: time.Now()
	Algorithm      string        // HS256 (default), HS384, HS512
}

// Mint writes a token as Twilio's helper libraries do.
func Mint(o MintOptions) (string, error) { return "", errors.New("inspect: Mint not implemented") }
