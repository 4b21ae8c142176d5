package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA(pkix.Name{CommonName: "Test CA", Organization: []string{"Test"}}, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue([]string{"tsock.us1.twilio.com", "127.0.0.1", "::1"}, Validity{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tsock.us1.twilio.com", "127.0.0.1", "::1"} {
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: ca.Pool()}); err == nil {
		t.Error("verified for a name it does not carry")
	}
	// The PEM pair loads as a server certificate.
	cp, kp, err := PEM(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(cp, kp); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Issue(nil, Validity{}); err == nil {
		t.Error("a certificate without names was issued")
	}
}

func TestExpiredValidity(t *testing.T) {
	ca, _ := NewCA(pkix.Name{CommonName: "Test CA"}, Validity{})
	now := time.Now()
	c, err := ca.Issue([]string{"x.example"}, Validity{NotBefore: now.Add(-2 * time.Hour), NotAfter: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var inv x509.CertificateInvalidError
	_, err = c.Leaf.Verify(x509.VerifyOptions{DNSName: "x.example", Roots: ca.Pool()})
	if err == nil || !asInvalid(err, &inv) || inv.Reason != x509.Expired {
		t.Errorf("err = %v, want expired", err)
	}
}

func asInvalid(err error, target *x509.CertificateInvalidError) bool {
	e, ok := err.(x509.CertificateInvalidError)
	if ok {
		*target = e
	}
	return ok
}
