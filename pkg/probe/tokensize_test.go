package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/twilsock"
)

// A token too large for the init header is refused before anything is
// dialed, with its size and the room there is; a token that exactly fills
// the room is sent, in an init of exactly twilsock.MaxHeaderSize bytes.
func TestTokenTooLargeForInit(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		c.drain()
	})
	big := strings.Repeat("a", 70000)
	rep, err := Run(context.Background(), fastConfig(fs.URL, big))
	if rep != nil || !errors.Is(err, ErrTokenTooLarge) || !errors.Is(err, ErrToken) {
		t.Fatalf("Run = %v, %v; want no report and ErrTokenTooLarge", rep, err)
	}
	var tl *TokenTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("err %T is not a *TokenTooLargeError", err)
	}
	if tl.Size != len(big) || tl.Limit != twilsock.MaxHeaderSize || tl.Room <= 60000 || tl.Room >= tl.Limit {
		t.Errorf("error = %+v", *tl)
	}
	for _, want := range []string{"70000 bytes", "65536", "64 KiB", "too large for a Twilsock header"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := fs.upgrades.Load(); n != 0 {
		t.Errorf("the probe dialed %d times with a token it cannot send", n)
	}

	// One byte over the room is refused; exactly the room is sent.
	if _, err := Run(context.Background(), fastConfig(fs.URL, strings.Repeat("a", tl.Room+1))); !errors.Is(err, ErrTokenTooLarge) {
		t.Errorf("a token of room+1 bytes: err = %v", err)
	}
	fits := strings.Repeat("a", tl.Room)
	rep = runProbe(t, fastConfig(fs.URL, fits))
	wantOutcome(t, rep, OutcomeConnected)
	in := fs.conn(0).frame(twilsock.MethodInit)
	if in == nil || in.Header.Token != fits || len(in.RawHeader) != twilsock.MaxHeaderSize {
		t.Errorf("the init carrying a token of exactly the room: %v", in != nil && in.Header.Token == fits)
	}
}

// A fresh token too large to send is not sent: the update is reported as
// not sent, with the size, and the run stays connected.
func TestUpdateTokenTooLarge(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		c.drain()
	})
	calls := 0
	cfg := fastConfig(fs.URL, "")
	cfg.Token = func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return mintToken(t, testSecret, time.Hour, ""), nil
		}
		return strings.Repeat("b", 100000), nil
	}
	cfg.UpdateToken = true
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if m := fs.conn(0).methods(); contains(m, twilsock.MethodUpdate) {
		t.Errorf("an update was sent: %v", m)
	}
	ev := findEvent(rep, EventTokenRefreshFailed)
	if ev == nil || !strings.Contains(ev.Message, "100000 bytes") {
		t.Errorf("events = %+v", rep.Events)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "no update was sent: the token is 100000 bytes, too large") {
		t.Errorf("warnings = %q", rep.Warnings)
	}
}
