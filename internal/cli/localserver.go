package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
)

// localServer is an emulator on a loopback port for the length of one
// command (demo, check --local).
type localServer struct {
	emu  *emulator.Server
	http *http.Server
	url  string // ws://127.0.0.1:PORT/v3/wsconnect
	done chan struct{}
}

func startLocalServer(cfg emulator.Config) (*localServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the local server: %w", err)
	}
	s := &localServer{emu: emulator.New(cfg), done: make(chan struct{}),
		url: "ws://" + ln.Addr().String() + emulator.PathWS}
	s.http = &http.Server{Handler: s.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // http.ErrServerClosed once stopped
	}()
	return s, nil
}

// stop closes every connection, then the listener, and waits for both.
func (s *localServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = s.emu.Shutdown(ctx)
	_ = s.http.Shutdown(ctx)
	<-s.done
}
