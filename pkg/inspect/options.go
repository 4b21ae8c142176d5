package inspect

import "time"

// Product selects the grant a token must carry.
type Product string

const (
	ProductConversations Product = "conversations"
	ProductSync          Product = "sync"
	ProductVoice         Product = "voice"
	ProductVideo         Product = "video"
	ProductAny           Product = "any"
)

// Products lists every Product in the order help texts show them.
func Products() []Product {
	return []Product{ProductConversations, ProductSync, ProductVoice, ProductVideo, ProductAny}
}

// ParseProduct returns the product a name stands for; ok is false for a name
// that is none of them.
func ParseProduct(name string) (p Product, ok bool) {
	for _, p := range Products() {
		if string(p) == name {
			return p, true
		}
	}
	return "", false
}

// DefaultAboutToExpire is the window before exp in which the SDKs fire
// tokenAboutToExpire (docs/access-tokens.md, "Timing").
const DefaultAboutToExpire = 3 * time.Minute

// MaxLifetime is the longest exp - (nbf or iat) Twilio accepts.
const MaxLifetime = 24 * time.Hour

// Option configures Inspect and NewInspector.
type Option func(*config)

type config struct {
	secret        []byte
	now           func() time.Time
	product       Product
	minRemaining  time.Duration
	aboutToExpire time.Duration
}

// WithSecret verifies the signature with this API Key secret. An empty
// secret is the same as none: the signature stays unchecked.
func WithSecret(secret []byte) Option {
	return func(c *config) { c.secret = append([]byte(nil), secret...) }
}

// WithClock judges the token as of the time now returns (default time.Now).
// A reused Inspector calls it once per token.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithAt judges the token as of t.
func WithAt(t time.Time) Option { return WithClock(func() time.Time { return t }) }

// WithProduct requires the grant of a product (default conversations). A
// name that is none of the Products is judged as ProductAny; ParseProduct
// checks user input first.
func WithProduct(p Product) Option { return func(c *config) { c.product = p } }

// WithMinRemaining raises expires_soon as an error when less than d is left
// before exp. Zero (the default) leaves only the about-to-expire warning.
func WithMinRemaining(d time.Duration) Option { return func(c *config) { c.minRemaining = d } }

// WithAboutToExpire sets the window before exp in which the SDK would fire
// tokenAboutToExpire (default 3 minutes); it moves about_to_expire_at and the
// expires_soon warning. A server run with a different --about-to-expire wants
// its own value here.
func WithAboutToExpire(d time.Duration) Option { return func(c *config) { c.aboutToExpire = d } }

func newConfig(opts []Option) config {
	c := config{now: time.Now, product: ProductConversations, aboutToExpire: DefaultAboutToExpire}
	for _, o := range opts {
		o(&c)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.product == "" {
		c.product = ProductConversations
	}
	if c.aboutToExpire < 0 {
		c.aboutToExpire = 0
	}
	return c
}
