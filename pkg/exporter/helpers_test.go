package exporter

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var testSecret = []byte("exporter-test-secret-0123456789ab")

// mint returns a token the emulator accepts when signed with testSecret,
// issued at iat for an hour.
func mint(t testing.TB, secret []byte, iat time.Time) string {
	t.Helper()
	tok, err := inspect.Mint(inspect.MintOptions{
		AccountSID: "AC00000000000000000000000000000001", APIKeySID: "SK00000000000000000000000000000001",
		Secret: secret, Identity: "alice", ChatServiceSID: "IS00000000000000000000000000000001", Now: iat,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// freshTokens mints a new good token for every fetch, as a token endpoint would.
func freshTokens(t testing.TB) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return mint(t, testSecret, time.Now()), nil }
}

func staticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// startEmulator serves a pkg/emulator Server on 127.0.0.1 and returns its ws:// URL.
func startEmulator(t testing.TB, cfg emulator.Config) string {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := em.Shutdown(ctx); err != nil {
			t.Errorf("emulator shutdown: %v", err)
		}
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
}

// fastTune compresses the SDK timings a probe could wait on.
func fastTune(c *probe.Config) { c.DisconnectWait = -1 }

// startExporter serves a Handler with the connect module on 127.0.0.1.
func startExporter(t testing.TB, cc ConnectConfig, o Options) (*Handler, string) {
	t.Helper()
	if cc.tune == nil {
		cc.tune = fastTune
	}
	o.Modules = Modules(ModuleConfig{Connect: cc})
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL
}

type answer struct {
	status int
	ctype  string
	body   string
	mfs    map[string]*dto.MetricFamily
}

// get asks path on the exporter, with the scrape timeout header when
// timeout is not empty, and parses a metrics answer.
func get(t testing.TB, base, path, timeout string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if timeout != "" {
		req.Header.Set(timeoutHeader, timeout)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(b)}
	if resp.StatusCode == http.StatusOK && strings.HasPrefix(a.ctype, "text/plain; version=0.0.4") {
		p := expfmt.NewTextParser(model.UTF8Validation)
		if a.mfs, err = p.TextToMetricFamilies(strings.NewReader(a.body)); err != nil {
			t.Fatalf("parsing the answer: %v\n%s", err, a.body)
		}
	}
	return a
}

// value is the metric's value for the labels given as name, value pairs;
// ok is false when there is no such series.
func (a answer) value(name string, labels ...string) (float64, bool) {
	mf := a.mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func (a answer) want(t testing.TB, name string, want float64, labels ...string) {
	t.Helper()
	got, ok := a.value(name, labels...)
	if !ok {
		t.Errorf("%s%v: absent, want %v", name, labels, want)
	} else if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func (a answer) absent(t testing.TB, name string) {
	t.Helper()
	if _, ok := a.mfs[name]; ok {
		t.Errorf("%s is present, want it absent", name)
	}
}

var errTokenEndpoint = errors.New("token endpoint answered 500 Internal Server Error")
