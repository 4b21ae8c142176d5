package probe

import (
	"context"
	"reflect"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	"github.com/convctl/convctl/pkg/twilsock"
)

// TestTimesOrderTheReport: what the report records happens in an order,
// and its times must tell that order even when two things fall in the same
// microsecond (they often do: tokenUpdated, then at once the disconnect
// that follows it). Sorting states and events by at_ms, as the text
// timeline does, must give the order they happened in. In a synctest
// bubble the clock stands still, so everything here is at one instant.
func TestTimesOrderTheReport(t *testing.T) {
	tok := mintToken(t, testSecret, time.Hour, "")
	enc := func(h twilsock.Message) []byte {
		b, err := twilsock.Encode(h, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	wait := chunk(opWait, nil)
	ok := chunk(opBinary, enc(twilsock.NewReply(idHole, twilsock.OKStatus())))
	note := chunk(opBinary, enc(&twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: "TMn"}, MessageType: "m"}))
	p := &fuzzPeer{chunks: [][]byte{wait, ok, note, wait, ok}}
	var rep *Report
	synctest.Test(t, func(t *testing.T) {
		p.wake = make(chan struct{})
		cfg := Config{URL: "ws://peer.test/v3/wsconnect", Token: staticToken(tok), UpdateToken: true, NoReconnect: true}
		var err error
		if rep, err = runWith(context.Background(), cfg, p.dial); err != nil {
			t.Fatal(err)
		}
	})
	wantOutcome(t, rep, OutcomeConnected)

	type entry struct {
		at   float64
		what string
	}
	var tl []entry
	for _, s := range rep.States {
		tl = append(tl, entry{s.AtMS, string(s.State)})
	}
	for _, e := range rep.Events {
		tl = append(tl, entry{e.AtMS, e.Name})
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].at < tl[j].at })
	var got []string
	for _, e := range tl {
		got = append(got, e.what)
	}
	want := []string{"connecting", "connected", EventNotification, EventTokenUpdated, "disconnecting", "disconnected"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("states and events by time = %v, want %v (%+v)", got, want, tl)
	}
	// Inner states are strictly in time order, and a public state has
	// the time of the inner state that made it.
	for i := 1; i < len(rep.InnerStates); i++ {
		if rep.InnerStates[i].AtMS <= rep.InnerStates[i-1].AtMS {
			t.Errorf("inner states not strictly in time order: %+v", rep.InnerStates)
		}
	}
	for _, s := range rep.States {
		found := false
		for _, in := range rep.InnerStates {
			found = found || (in.AtMS == s.AtMS && in.Public == s.State)
		}
		if !found {
			t.Errorf("state %+v has no inner state at its time: %+v", s, rep.InnerStates)
		}
	}
}
