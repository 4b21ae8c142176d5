package cli

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/probe"
)

type demoJSON struct {
	Passed bool `json:"passed"`
	Scenes []struct {
		Title  string        `json:"title"`
		Expect probe.Outcome `json:"expect"`
		Passed bool          `json:"passed"`
		Report probe.Report  `json:"report"`
	} `json:"scenes"`
}

// TestDemoWalksEveryState asserts what the newcomer is promised: each scene's
// public state sequence, its events and its cause.
func TestDemoWalksEveryState(t *testing.T) {
	io, _, out, errOut := TestIO()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runDemo(ctx, &DemoOptions{IO: io, Output: "json", Version: "test"}); err != nil {
		t.Fatalf("demo failed: %v\nstderr: %s", err, errOut)
	}
	var got demoJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("demo -o json is not JSON: %v\n%s", err, out)
	}
	want := []struct {
		states []probe.State
		events []string
		cause  probe.CauseKind
		code   int
	}{
		{states: []probe.State{"connecting", "connected", "disconnecting", "disconnected"}, events: []string{"tokenUpdated"}},
		{states: []probe.State{"connecting", "connected", "disconnecting", "disconnected"}, events: []string{"tokenAboutToExpire", "tokenUpdated"}},
		{states: []probe.State{"connecting", "denied"}, events: []string{"connectionError"}, cause: probe.CauseTokenRejected, code: 20107},
		{states: []probe.State{"connecting", "connected", "disconnecting", "disconnected"}, events: []string{"tokenAboutToExpire", "tokenExpired"}, cause: probe.CauseTokenExpired, code: 20104},
	}
	if !got.Passed || len(got.Scenes) != len(want) {
		t.Fatalf("passed=%v with %d scenes, want true with %d", got.Passed, len(got.Scenes), len(want))
	}
	for i, w := range want {
		sc := got.Scenes[i]
		var states []probe.State
		for _, s := range sc.Report.States {
			states = append(states, s.State)
		}
		var events []string
		for _, e := range sc.Report.Events {
			events = append(events, e.Name)
		}
		if !slices.Equal(states, w.states) {
			t.Errorf("scene %d %q: states %v, want %v", i+1, sc.Title, states, w.states)
		}
		if !slices.Equal(events, w.events) {
			t.Errorf("scene %d %q: events %v, want %v", i+1, sc.Title, events, w.events)
		}
		switch c := sc.Report.Cause; {
		case w.cause == "" && c != nil:
			t.Errorf("scene %d: cause %+v, want none", i+1, *c)
		case w.cause != "" && (c == nil || c.Kind != w.cause || c.TwilioError == nil || *c.TwilioError != w.code):
			t.Errorf("scene %d: cause %+v, want %s with Twilio error %d", i+1, c, w.cause, w.code)
		case c != nil && c.Hint == "":
			t.Errorf("scene %d: cause without a hint", i+1)
		}
	}
}

// BenchmarkDemo measures the whole tour; the budget is 15 s.
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		io, _, _, _ := TestIO()
		if err := runDemo(context.Background(), &DemoOptions{IO: io, Output: "text", Version: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
