package cli

import (
	"testing"

	"github.com/convctl/convctl/pkg/probe"
)

// A flood folds repeats into one event; the timeline must say how many
// there were and until when, or a user reads one event where there were
// thousands.
func TestEventDetailShowsFoldedRepeats(t *testing.T) {
	last := 4999.5
	status := 503
	for _, tc := range []struct {
		e    probe.Event
		want string
	}{
		{probe.Event{Name: "tokenUpdated"}, ""},
		{probe.Event{Name: "connectionError", HTTPStatus: &status, Message: "busy"}, " (HTTP 503, busy)"},
		{probe.Event{Name: "notification", Count: 5005045, LastAtMS: &last}, " (×5005045, last at +5.000s)"},
		{probe.Event{Name: "notification", Count: 2}, " (×2)"},
	} {
		if got := eventDetail(tc.e); got != tc.want {
			t.Errorf("eventDetail(%+v) = %q, want %q", tc.e, got, tc.want)
		}
	}
}
