package exporter

import (
	"encoding/json"
	"maps"
	"reflect"
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
	var all probe.Timing
	rv := reflect.ValueOf(&all).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Field(i); f.Type() == reflect.TypeFor[*float64]() {
			f.Set(reflect.ValueOf(v(1)))
		}
	}
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
