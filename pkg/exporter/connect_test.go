package exporter

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/convctl/convctl/pkg/probe"
)

// phases names each phase as the report's JSON does, leaves out the ones
// that did not happen, and knows every key of timing_ms.
func TestPhasesFollowTheJSONNames(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	got := phases(probe.Timing{TCP: v(0.5), Upgrade: v(1), Init: v(2), Connected: v(3.5)})
	want := map[string]float64{"tcp": 0.5, "upgrade": 1, "init": 2, "connected": 3.5}
	if !maps.Equal(got, want) {
		t.Errorf("phases = %v, want %v", got, want)
	}
	// Every key of timing_ms in the JSON report is a phase when set.
	b, err := json.Marshal(probe.Timing{})
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	all := probe.Timing{DNS: v(1), TCP: v(1), TLS: v(1), Upgrade: v(1), Init: v(1), Connected: v(1)}
	got = phases(all)
	for k := range keys {
		if _, ok := got[k]; !ok {
			t.Errorf("timing_ms key %q is not a phase", k)
		}
	}
	if len(got) != len(keys) {
		t.Errorf("phases %v, timing_ms keys %v", got, keys)
	}
}
