package testpeer

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/convctl/convctl/pkg/tlsca"
)

// ServeTLS serves h over TLS on 127.0.0.1 until the test ends, with a
// certificate for host issued by ca: a stand-in for host that a client
// trusting ca (and sent there by a connect-to rule) checks by its real
// name. Handshakes a client refuses on purpose are not logged.
func ServeTLS(t testing.TB, ca *tlsca.CA, host string, h http.Handler) *httptest.Server {
	t.Helper()
	cert, err := ca.Issue([]string{host}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
