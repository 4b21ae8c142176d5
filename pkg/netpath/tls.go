package netpath

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

var publicRoots = sync.OnceValue(func() *x509.CertPool {
	p := x509.NewCertPool()
	for r := range bundle.Roots() {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			continue // a root Go cannot parse cannot anchor a chain either
		}
		if r.Constraint == nil {
			p.AddCert(c)
		} else {
			p.AddCertWithConstraint(c, r.Constraint)
		}
	}
	return p
})

// PublicRoots returns the public Web PKI: Mozilla's root store as
// golang.org/x/crypto/x509roots/fallback ships it, parsed once per process.
// The pool must not be modified.
func PublicRoots() *x509.CertPool { return publicRoots() }

var systemRoots = sync.OnceValues(x509.SystemCertPool)

// localPool is this machine's roots plus the extra ones: what a client here
// trusts.
func (d *Dialer) localPool() *x509.CertPool {
	d.localOnce.Do(func() {
		p := d.cfg.Roots
		if p == nil {
			sp, err := systemRoots()
			if err != nil || sp == nil {
				sp = x509.NewCertPool()
			}
			p = sp
		}
		if len(d.cfg.ExtraRoots) > 0 {
			p = p.Clone()
			for _, c := range d.cfg.ExtraRoots {
				p.AddCert(c)
			}
		}
		d.local = p
	})
	return d.local
}

// extraPool holds the extra roots alone; nil without any.
func (d *Dialer) extraPool() *x509.CertPool {
	d.extraOnce.Do(func() {
		if len(d.cfg.ExtraRoots) == 0 {
			return
		}
		d.extra = x509.NewCertPool()
		for _, c := range d.cfg.ExtraRoots {
			d.extra.AddCert(c)
		}
	})
	return d.extra
}

// handshake does TLS with the target over c. The handshake completes
// whatever the certificate (so the chain is always seen); the chain is then
// verified here, and the dial fails as a client here would.
func (x *dial) handshake(ctx context.Context, c net.Conn) (net.Conn, error) {
	host := x.t.Host
	protos := x.t.NextProtos
	if len(protos) == 0 {
		protos = []string{"http/1.1"}
	}
	info := &TLS{ServerName: host, Chain: []Cert{}}
	x.path.TLS = info
	now := x.d.cfg.Now()
	var verr *Error
	// Reading the trust stores (this machine's: every file of its
	// certificate directories, ~10 ms; Mozilla's: ~2 ms) happens once per
	// process, inside the first handshake; that is not the network's time,
	// so it is taken out of the TLS phase (poolWait).
	var poolWait time.Duration
	cfg := &tls.Config{
		ServerName:         host,
		NextProtos:         protos,
		InsecureSkipVerify: true, // verified below, against two pools
		VerifyConnection: func(cs tls.ConnectionState) error {
			verr = x.d.judge(info, cs.PeerCertificates, host, now, &poolWait)
			if verr != nil {
				return verr
			}
			return nil
		},
	}
	tc := tls.Client(c, cfg)
	t0 := time.Now()
	err := tc.HandshakeContext(ctx)
	took := time.Since(t0) - poolWait
	x.path.Timing.TLS = durp(took)
	cs := tc.ConnectionState()
	if cs.Version != 0 {
		info.Version = tls.VersionName(cs.Version)
		info.Cipher = tls.CipherSuiteName(cs.CipherSuite)
		info.ALPN = cs.NegotiatedProtocol
	}
	x.step(Step{Phase: PhaseTLS, Duration: took, Address: host, Err: err})
	if err != nil {
		e := verr
		if e == nil {
			e = classifyHandshake(ctx, err, host)
		}
		info.Verified = false
		info.Error = strp(e.Message())
		x.log.Debug("tls failed", "server_name", host, "took", took, "kind", e.Kind, "err", e.Message())
		return nil, e
	}
	x.log.Debug("tls", "server_name", host, "took", took, "trust_stores_read", poolWait, "version", info.Version, "cipher", info.Cipher,
		"alpn", info.ALPN, "verified", info.Verified, "publicly_trusted", info.PubliclyTrusted,
		"intercepted_by", deref(info.InterceptedBy))
	return tc, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// judge records the presented chain in info and verifies it twice: here
// (the verdict) and publicly (interception). It returns the failure a client
// here would see, or nil.
func (d *Dialer) judge(info *TLS, certs []*x509.Certificate, host string, now time.Time, poolWait *time.Duration) *Error {
	pool := func(get func() *x509.CertPool) *x509.CertPool {
		t0 := time.Now()
		p := get()
		*poolWait += time.Since(t0)
		return p
	}
	info.Chain = info.Chain[:0]
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		info.Chain = append(info.Chain, Cert{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
			NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), SHA256: hex.EncodeToString(sum[:]),
			DNSNames: c.DNSNames, IsCA: c.IsCA})
	}
	if len(certs) == 0 {
		return &Error{Kind: KindTLSHandshake, Phase: PhaseTLS, Host: host, Err: errors.New("the server presented no certificate")}
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	verify := func(roots *x509.CertPool) ([][]*x509.Certificate, error) {
		return leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter,
			CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	}
	// A chain that verifies with the extra roots alone verifies with this
	// machine's roots plus them: try those first, and load this machine's
	// roots (hundreds of files) only when they do not do.
	var localChains [][]*x509.Certificate
	localErr := errors.New("no extra roots")
	if ep := pool(d.extraPool); ep != nil {
		localChains, localErr = verify(ep)
	}
	if localErr != nil {
		localChains, localErr = verify(pool(d.localPool))
	}
	pub := pool(d.publicPool)
	_, publicErr := verify(pub)
	info.Verified = localErr == nil
	info.PubliclyTrusted = publicErr == nil
	top := certs[len(certs)-1]
	issuer := top.Issuer.String()
	if localErr == nil && len(localChains) > 0 {
		ch := localChains[0]
		issuer = ch[len(ch)-1].Subject.String()
	}
	intercepted := false
	if publiclyCertifiable(host) && !info.PubliclyTrusted && !d.publicIssuer(top) {
		// Trusted here but not publicly, or not trusted here either, by an
		// issuer no public CA is: something re-signs the certificate. An
		// expired or misnamed certificate from a public CA is not this.
		if localErr == nil || isUnknownAuthority(localErr) {
			intercepted = true
			info.InterceptedBy = strp(issuer)
		}
	}
	if localErr == nil {
		return nil
	}
	e := &Error{Phase: PhaseTLS, Host: host, Err: localErr, Issuer: issuer, Now: now}
	var inv x509.CertificateInvalidError
	var hn x509.HostnameError
	switch {
	case errors.As(localErr, &hn):
		e.Kind = KindTLSWrongName
		e.Names = certNames(leaf)
	case errors.As(localErr, &inv) && inv.Reason == x509.Expired:
		bad := inv.Cert
		if bad == nil {
			bad = leaf
		}
		e.NotAfter, e.NotBefore = bad.NotAfter, bad.NotBefore
		e.Kind = KindTLSExpired
		if now.Before(bad.NotBefore) {
			e.Kind = KindTLSNotYetValid
		}
	case intercepted:
		e.Kind = KindTLSIntercepted
	default:
		e.Kind = KindTLSUntrusted
	}
	return e
}

// publicIssuer reports whether c is, or is signed by, a public root: its
// issuer's name and key appear in the public pool.
func (d *Dialer) publicIssuer(c *x509.Certificate) bool {
	pub, _ := d.public()
	ch, err := c.Verify(x509.VerifyOptions{Roots: pub, CurrentTime: c.NotBefore.Add(time.Second),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil && len(ch) > 0
}

func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

func certNames(c *x509.Certificate) []string {
	n := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	if len(n) == 0 && c.Subject.CommonName != "" {
		n = append(n, "CN "+c.Subject.CommonName)
	}
	return n
}

// publiclyCertifiable reports whether a public CA could issue a certificate
// for host: not an IP in a private or local range, not localhost, not a
// single label or a reserved name. Only for such hosts can a non-public
// issuer mean interception rather than a private server.
func publiclyCertifiable(host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified())
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if !strings.Contains(h, ".") {
		return false
	}
	for _, tld := range []string{".localhost", ".local", ".test", ".example", ".invalid", ".internal", ".lan", ".home.arpa", ".corp", ".intranet"} {
		if strings.HasSuffix(h, tld) {
			return false
		}
	}
	return true
}

// classifyHandshake names a handshake that failed for another reason than
// the certificate.
func classifyHandshake(ctx context.Context, err error, host string) *Error {
	e := &Error{Kind: KindTLSHandshake, Phase: PhaseTLS, Host: host, Err: err}
	var rh tls.RecordHeaderError
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		e.Kind = KindCanceled
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		e.Kind = KindTLSTimeout
	case errors.As(err, &rh) && looksHTTP(rh.RecordHeader[:]):
		e.Kind = KindTLSPlainHTTP
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		e.Kind = KindTLSReset
	}
	return e
}

func looksHTTP(b []byte) bool {
	s := string(b)
	return strings.HasPrefix(s, "HTTP/") || strings.HasPrefix(s, "<") || strings.HasPrefix(s, "HTTP")
}

// CertExpiry returns the leaf's NotAfter, when a chain was presented.
func (t *TLS) CertExpiry() (time.Time, bool) {
	if t == nil || len(t.Chain) == 0 {
		return time.Time{}, false
	}
	return t.Chain[0].NotAfter, true
}

// Summary is one line for logs: "TLS 1.3, verified, publicly trusted".
func (t *TLS) Summary() string {
	if t == nil {
		return ""
	}
	var p []string
	if t.Version != "" {
		p = append(p, t.Version)
	}
	switch {
	case t.Error != nil:
		p = append(p, "failed")
	case t.Verified:
		p = append(p, "verified")
	}
	if t.PubliclyTrusted {
		p = append(p, "publicly trusted")
	}
	if t.InterceptedBy != nil {
		p = append(p, fmt.Sprintf("intercepted by %s", *t.InterceptedBy))
	}
	return strings.Join(p, ", ")
}

func (d *Dialer) publicPool() *x509.CertPool {
	p, _ := d.public()
	return p
}
