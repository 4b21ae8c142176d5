package cli

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/tlsca"
)

// serveTLSFlags make `convctl serve` speak wss://: with a certificate the
// user has (--tls-cert, --tls-key), or with a throwaway CA and a certificate
// it signs (--tls), whose CA certificate a client then trusts (--tls-ca-out).
type serveTLSFlags struct {
	auto      bool
	certFile  string
	keyFile   string
	names     []string
	caOutFile string
}

func (s *serveTLSFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.auto, "tls", false, "serve wss:// with a throwaway CA and a certificate it signs for localhost, 127.0.0.1, ::1 and each --tls-name")
	fl.StringVar(&s.certFile, "tls-cert", "", "serve wss:// with the certificate (chain) in `PATH` (PEM; with --tls-key)")
	fl.StringVar(&s.keyFile, "tls-key", "", "the private key of --tls-cert, in `PATH` (PEM)")
	listVar(fl, &s.names, "tls-name", "with --tls: also put `NAME` (a host name or IP) in the certificate (repeatable)")
	fl.StringVar(&s.caOutFile, "tls-ca-out", "", "with --tls: write the throwaway CA's certificate (PEM) to `PATH`, for clients to trust (NODE_EXTRA_CA_CERTS, --ca-file)")
	_ = cmd.MarkFlagFilename("tls-cert", "pem", "crt")
	_ = cmd.MarkFlagFilename("tls-key", "pem", "key")
}

// config checks the flags and returns the server's TLS configuration, nil
// for plain ws://. With --tls it makes the CA, and returns its certificate
// (PEM) for runServe to write to --tls-ca-out once it listens: a serve that
// cannot bind must not replace the CA of one that did.
func (s *serveTLSFlags) config(cmd *cobra.Command) (*tls.Config, []byte, error) {
	for _, pair := range [][2]string{{"tls", "tls-cert"}, {"tls", "tls-key"}} {
		if err := flagsConflict(cmd, pair[0], pair[1], "--tls makes its own certificate; --tls-cert and --tls-key serve yours"); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case (s.certFile == "") != (s.keyFile == ""):
		return nil, nil, usageErrorf("--tls-cert and --tls-key go together: give both")
	case !s.auto && len(s.names) > 0:
		return nil, nil, usageErrorf("--tls-name needs --tls (it names the certificate --tls makes)")
	case !s.auto && s.caOutFile != "":
		return nil, nil, usageErrorf("--tls-ca-out needs --tls (it writes the CA --tls makes)")
	}
	if s.certFile != "" {
		cert, err := tls.LoadX509KeyPair(s.certFile, s.keyFile)
		if err != nil {
			return nil, nil, usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		return serverTLS(cert), nil, nil
	}
	if !s.auto {
		return nil, nil, nil
	}
	names := []string{"localhost", "127.0.0.1", "::1"}
	for _, n := range s.names {
		if n == "" || len(n) > 253 {
			return nil, nil, usageErrorf("--tls-name %q: want a host name or an IP address", n)
		}
		if ip := net.ParseIP(n); ip == nil && !validDNSName(n) {
			return nil, nil, usageErrorf("--tls-name %q: want a host name or an IP address", n)
		}
		names = append(names, n)
	}
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "convctl serve throwaway CA", Organization: []string{"convctl"}}, tlsca.Validity{})
	if err != nil {
		return nil, nil, cannotFinish(fmt.Errorf("--tls: %w", err))
	}
	cert, err := ca.Issue(names, tlsca.Validity{})
	if err != nil {
		return nil, nil, cannotFinish(fmt.Errorf("--tls: %w", err))
	}
	return serverTLS(cert), ca.CertPEM(), nil
}

func serverTLS(cert tls.Certificate) *tls.Config {
	// http/1.1 only: a WebSocket upgrade is HTTP/1.1.
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
}

// validDNSName accepts letters, digits, hyphens and dots, and a leading
// "*." wildcard.
func validDNSName(n string) bool {
	if len(n) > 2 && n[:2] == "*." {
		n = n[2:]
	}
	for _, label := range splitDots(n) {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
