// Package tlsca makes throwaway certificate authorities and the server
// certificates they sign: for `convctl serve --tls`, and for tests that need
// a company inspection CA, an expired certificate or one for the wrong name.
//
// Keys are ECDSA P-256, made fresh each time and never written anywhere by
// this package. Everything here is safe for concurrent use.
package tlsca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// CA is a certificate authority held in memory.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Validity is a certificate's time window.
type Validity struct {
	NotBefore, NotAfter time.Time
}

// DefaultValidity runs from an hour ago (a little clock skew is fine) to
// 30 days from now.
func DefaultValidity() Validity {
	now := time.Now()
	return Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)}
}

// NewCA makes a self-signed root named subj, valid for v (zero: DefaultValidity).
func NewCA(subj pkix.Name, v Validity) (*CA, error) {
	if v == (Validity{}) {
		v = DefaultValidity()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               subj,
		NotBefore:             v.NotBefore,
		NotAfter:              v.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: c, Key: key}, nil
}

// Issue makes a server certificate for names (DNS names or IP addresses),
// valid for v (zero: DefaultValidity), signed by ca. The first DNS name is
// also the subject's common name.
func (ca *CA) Issue(names []string, v Validity) (tls.Certificate, error) {
	if len(names) == 0 {
		return tls.Certificate{}, errors.New("tlsca: a certificate needs at least one name")
	}
	if v == (Validity{}) {
		v = DefaultValidity()
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    v.NotBefore,
		NotAfter:     v.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		tmpl.DNSNames = append(tmpl.DNSNames, n)
		if tmpl.Subject.CommonName == "" {
			tmpl.Subject.CommonName = n
		}
	}
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject.CommonName = names[0]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// CertPEM is the CA's certificate in PEM, for a client to trust.
func (ca *CA) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Pool is a pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// WriteCertPEM writes the CA's certificate to path (mode 0644: it is public).
func (ca *CA) WriteCertPEM(path string) error {
	if err := os.WriteFile(path, ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("tlsca: %w", err)
	}
	return nil
}

// PEM returns a certificate and its key in PEM, for files a server loads.
func PEM(c tls.Certificate) (certPEM, keyPEM []byte, err error) {
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("tlsca: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), nil
}

func serial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	b[0] &= 0x3f // positive, under 2^126
	return new(big.Int).SetBytes(b)
}
