package cli

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
)

// serveEmulator serves pkg/emulator with cfg on 127.0.0.1 for one test and
// returns its ws:// URL. When the test ends the emulator is shut down (a
// shutdown that fails fails the test) and the server closed.
func serveEmulator(t testing.TB, cfg emulator.Config) string {
	t.Helper()
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := em.Shutdown(ctx); err != nil {
			t.Errorf("emulator shutdown: %v", err)
		}
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
}
