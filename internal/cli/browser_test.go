package cli

// The browser suite: Twilio's real Conversations SDK (the browser bundle of
// @twilio/conversations 3.0.1, from testdata/interop/node_modules) in a real
// Chromium, driven with chromedp, against `convctl serve` in process. One tab
// is a web app as a developer writes it (testdata/browser/sdk.html, served by
// the test: it fetches its token from serve's token endpoint); the other is
// serve's dashboard. The tests click the dashboard's buttons and assert what
// the SDK in the app's tab saw.
//
// Chromium missing is a loud skip on a developer machine and a failure under
// CI=true. Every wait is a poll inside the page bounded by a deadline.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/twilsock"
)

const (
	browserStartTimeout = 30 * time.Second
	browserTestTimeout  = 60 * time.Second // one scenario, start to finish
	browserWait         = 20 * time.Second // one condition: the SDK reconnects with backoff
)

// sdkBundle is the browser build of the Conversations SDK, relative to testdata/interop.
const sdkBundle = "node_modules/@twilio/conversations/builds/twilio-conversations.min.js"

// browserEnv is one Chromium for a whole test, and the test's web app server.
type browserEnv struct {
	ctx context.Context // the browser's; tabs are made from it
	app string          // http://127.0.0.1:PORT of the test page
}

// findChromium returns the path of Chromium, or why there is none.
func findChromium() (string, error) {
	if p := os.Getenv("CONVCTL_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("CONVCTL_CHROMIUM=%s: %v", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (Debian: apt-get install chromium; or set CONVCTL_CHROMIUM)")
}

// requireBrowser starts Chromium and the web app's server, both stopped when
// the test ends.
func requireBrowser(t *testing.T) *browserEnv {
	t.Helper()
	bundle, err := filepath.Abs(filepath.Join("..", "..", "testdata", "interop", sdkBundle))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	chromium, err := findChromium()
	if err != nil {
		missing = append(missing, err.Error())
	}
	if _, err := os.Stat(bundle); err != nil {
		missing = append(missing, "the SDK's browser bundle is not installed (run `npm ci` in testdata/interop)")
	}
	if len(missing) > 0 {
		testpeer.Missing(t, "browser suite: "+strings.Join(missing, "; "))
	}

	page, err := filepath.Abs(filepath.Join("testdata", "browser", "sdk.html"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, page) })
	mux.HandleFunc("GET /sdk.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, bundle) })
	app := httptest.NewServer(mux)
	t.Cleanup(app.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The browser lives as long as the context of its first action, so that
	// one is ctx itself; the start is bounded by cancelling it.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	timer := time.NewTimer(browserStartTimeout)
	defer timer.Stop()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("starting %s: %v", chromium, err)
		}
	case <-timer.C:
		cancelBrowser()
		t.Fatalf("%s did not start within %v", chromium, browserStartTimeout)
	}
	return &browserEnv{ctx: ctx, app: app.URL}
}

// tab opens a new tab, closed when the test ends; its actions are bounded by
// the test's deadline.
func (b *browserEnv) tab(t *testing.T, deadline context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	// The tab's own context ends with the test's deadline too.
	stop := context.AfterFunc(deadline, cancel)
	t.Cleanup(func() { stop() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return ctx
}

// pageProblems collects what a tab's console and network say went wrong.
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	p.list = append(p.list, s)
	p.mu.Unlock()
}

func (p *pageProblems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.list)
}

// watch records console errors, uncaught exceptions and HTTP error answers of
// a tab until its context ends.
func watch(ctx context.Context) *pageProblems {
	p := &pageProblems{}
	console := chromedp.Console(ctx)
	responses := chromedp.Events(ctx, network.ResponseReceived)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				p.add(m.String())
			}
		}
	}()
	go func() {
		for ev, err := range responses {
			if err != nil {
				return
			}
			if ev.Response.Status >= 400 {
				p.add(fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
			}
		}
	}()
	return p
}

// browserRun is one scenario: a server, its dashboard in one tab, the web app
// in another.
type browserRun struct {
	t        *testing.T
	serve    *serveProc
	base     string // http://127.0.0.1:PORT of serve
	deadline context.Context
	dash     context.Context
	app      context.Context
	problems *pageProblems // the dashboard's
}

// start starts serve, opens its dashboard and, unless noApp, the web app.
func (b *browserEnv) start(t *testing.T, noApp bool, serveFlags ...string) *browserRun {
	t.Helper()
	deadline, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	t.Cleanup(cancel)
	p, err := startServe(append([]string{"--token-endpoint"}, serveFlags...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", p.log.String())
		}
	})
	r := &browserRun{t: t, serve: p, deadline: deadline, base: "http" + strings.TrimPrefix(strings.TrimSuffix(p.url, "/v3/wsconnect"), "ws")}
	r.dash = b.tab(t, deadline)
	r.problems = watch(r.dash)
	if err := chromedp.Do(r.dash, chromedp.Navigate(r.base+"/")); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	r.waitDash(`document.body.dataset.stream === "live"`, "the dashboard's event stream to be live")
	if noApp {
		return r
	}

	r.app = b.openApp(t, deadline, r.base, "alice")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("what the SDK saw: %s", r.sdkRecord())
		}
	})
	return r
}

// openApp opens the web app in a new tab, its SDK connecting to serve at
// base as identity.
func (b *browserEnv) openApp(t *testing.T, deadline context.Context, base, identity string) context.Context {
	t.Helper()
	app := b.tab(t, deadline)
	if err := chromedp.Do(app, chromedp.Navigate(b.app+"/")); err != nil {
		t.Fatalf("opening the web app: %v", err)
	}
	if _, err := chromedp.Run(app, chromedp.Evaluate[string](fmt.Sprintf(`start(%q, %q)`, base, identity),
		chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("starting the SDK in the page: %v", err)
	}
	return app
}

// wait polls a JavaScript condition in a tab until it holds, bounded by browserWait.
func (r *browserRun) wait(tab context.Context, cond, what string) {
	r.t.Helper()
	_, err := chromedp.Run(tab, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(browserWait),
		chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		r.t.Fatalf("waiting for %s (%s): %v", what, cond, err)
	}
}

func (r *browserRun) waitDash(cond, what string) { r.t.Helper(); r.wait(r.dash, cond, what) }
func (r *browserRun) waitSDK(cond, what string)  { r.t.Helper(); r.wait(r.app, cond, what) }

// sdkStates is every connection state the SDK has reported.
func (r *browserRun) sdkStates() []string {
	r.t.Helper()
	states, err := chromedp.Run(r.app, chromedp.Evaluate[[]string](`rec.states`))
	if err != nil {
		r.t.Fatalf("reading the SDK's states: %v", err)
	}
	return states
}

func (r *browserRun) sdkRecord() string {
	raw, err := chromedp.Run(r.app, chromedp.Evaluate[json.RawMessage](`rec.events`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return string(raw)
}

// dashText reads the text of the first element matching sel in the dashboard.
func (r *browserRun) dashText(sel string) string {
	r.t.Helper()
	s, err := chromedp.Run(r.dash, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel)))
	if err != nil {
		r.t.Fatalf("reading %s in the dashboard: %v", sel, err)
	}
	return s
}

func (r *browserRun) click(sel string) {
	r.t.Helper()
	if err := chromedp.Do(r.dash, chromedp.Click(chromedp.CSS(sel))); err != nil {
		r.t.Fatalf("clicking %s in the dashboard: %v", sel, err)
	}
}

// connected waits until the SDK and the dashboard both say connected, and
// returns the connection's id.
func (r *browserRun) connected() string {
	r.t.Helper()
	r.waitSDK(`rec.states.includes("connected")`, "the SDK to connect")
	r.waitDash(`[...document.querySelectorAll("[data-conn-id]")].some(e => e.querySelector('[data-field="state"]').textContent === "connected")`,
		"the dashboard to show a connected connection")
	id, err := chromedp.Run(r.dash, chromedp.Evaluate[string](
		`[...document.querySelectorAll("[data-conn-id]")].find(e => e.querySelector('[data-field="state"]').textContent === "connected").dataset.connId`))
	if err != nil {
		r.t.Fatal(err)
	}
	if got := r.dashText(fmt.Sprintf(`[data-conn-id=%q] [data-field="identity"]`, id)); got != "alice" {
		r.t.Errorf("dashboard identity of %s = %q, want alice", id, got)
	}
	return id
}

// noPageProblems fails on any console error or failed request of the dashboard.
func (r *browserRun) noPageProblems() {
	r.t.Helper()
	if p := r.problems.get(); len(p) > 0 {
		r.t.Errorf("the dashboard had problems:\n  %s", strings.Join(p, "\n  "))
	}
}

func TestBrowserDashboardDrivesSDK(t *testing.T) {
	b := requireBrowser(t)
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		ct := r.dashText(fmt.Sprintf(`[data-conn-id=%q] [data-field="continuation-token"]`, id))
		if !strings.HasPrefix(ct, "CT-") {
			t.Fatalf("dashboard continuation token of %s = %q, want CT-…", id, ct)
		}
		before := len(r.sdkStates())
		r.click(fmt.Sprintf(`[data-conn-id=%q] [data-action="drop"]`, id))
		r.waitSDK(fmt.Sprintf(`rec.states.slice(%d).join() === "connecting,connected"`, before), "the SDK to reconnect")
		// The new connection carries the session the SDK presented: its
		// continuation token, reused.
		r.waitDash(fmt.Sprintf(`[...document.querySelectorAll("[data-conn-id]")].some(e => e.dataset.connId !== %q && `+
			`e.querySelector('[data-field="state"]').textContent === "connected" && `+
			`e.querySelector('[data-field="continuation-token"]').textContent === %q)`, id, ct),
			"the dashboard to show the reconnected connection with the same continuation token")
		r.noPageProblems()
	})
	t.Run("expire", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		code, err := chromedp.Run(r.dash, chromedp.Value(chromedp.CSS(fmt.Sprintf(`[data-conn-id=%q] [data-field="code"]`, id))))
		if err != nil || code != "410" {
			t.Errorf("close code input = %q (%v), want the default 410", code, err)
		}
		r.click(fmt.Sprintf(`[data-conn-id=%q] [data-action="close"]`, id))
		r.waitSDK(`rec.events.some(e => e.name === "tokenExpired")`, "tokenExpired in the SDK")
		r.waitSDK(`rec.states.at(-1) === "disconnected"`, "the SDK to end disconnected")
		if got := r.dashText(fmt.Sprintf(`[data-closed-conn-id=%q] output, [data-conn-id=%q] output`, id, id)); !strings.Contains(got, "close 410 sent to "+id) {
			t.Errorf("the close button's result reads %q, want it to say close 410 was sent to %s", got, id)
		}
		r.noPageProblems()
	})
	t.Run("offload", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		card := fmt.Sprintf(`[data-conn-id=%q]`, id)
		before := len(r.sdkStates())
		if err := chromedp.Do(r.dash,
			chromedp.SetValue(chromedp.CSS(card+` [data-field="code"]`), "308"),
			chromedp.Click(chromedp.CSS(card+` details.more summary`)),
			chromedp.SetValue(chromedp.CSS(card+` [data-field="backoff-ms"]`), "200"),
		); err != nil {
			t.Fatal(err)
		}
		r.click(card + ` [data-action="close"]`)
		// The result first: a closed connection's card stays on the page for
		// 8 s only, and the SDK takes 3 s of disconnecting plus its backoff
		// to come back, longer on a loaded machine.
		r.waitDash(fmt.Sprintf(`document.querySelector('[data-closed-conn-id=%q] output, [data-conn-id=%q] output').textContent === "✓ close 308 sent to %s"`, id, id, id),
			"the close button's result")
		r.waitSDK(fmt.Sprintf(`rec.states.slice(%d).join() === "disconnecting,connecting,connected"`, before),
			"the SDK to be offloaded and come back")
		r.noPageProblems()
	})
	t.Run("refuse-upgrades", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		if err := chromedp.Do(r.dash, chromedp.SetValue(chromedp.CSS(`[data-panel="faults"] form:has([data-action="refuse-upgrades"]) [name="count"]`), "2")); err != nil {
			t.Fatal(err)
		}
		r.click(`[data-panel="faults"] [data-action="refuse-upgrades"]`)
		r.waitDash(`document.querySelector('[data-field="faults"]').textContent === "refuse the next 2 upgrades with 503"`, "the refusal armed")
		before := len(r.sdkStates())
		r.click(fmt.Sprintf(`[data-conn-id=%q] [data-action="drop"]`, id))
		// Two upgrades answered 503 (the browser shows the SDK no status:
		// "Socket error"), then its third attempt is served.
		r.waitSDK(fmt.Sprintf(`rec.states.slice(%d).join() === "connecting,retrying,connected"`, before), "the SDK to get through")
		r.waitSDK(`rec.events.filter(e => e.name === "connectionError" && !e.data.terminal).length === 2`, "two non-terminal connectionErrors")
		r.waitDash(`document.querySelector('[data-field="faults"]').textContent.startsWith("none")`, "the refusals used up")
		st, err := chromedp.Run(r.dash, chromedp.Evaluate[string](`[...document.querySelectorAll("#stats div")].find(d => d.firstChild.textContent === "refused").lastChild.textContent`))
		if err != nil || st != "2" {
			t.Errorf("the counters say refused %q (%v), want 2", st, err)
		}
		r.noPageProblems()
	})
	t.Run("about-to-expire", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		// By keyboard: focus the button, press Enter.
		if err := chromedp.Do(r.dash, chromedp.Focus(chromedp.CSS(fmt.Sprintf(`[data-conn-id=%q] [data-action="about-to-expire"]`, id))),
			chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		r.waitSDK(`rec.events.some(e => e.name === "tokenAboutToExpire")`, "tokenAboutToExpire in the SDK")
		r.waitDash(fmt.Sprintf(`document.querySelector('[data-conn-id=%q] output[data-field="result"]').textContent === "✓ about-to-expire sent to %s"`, id, id),
			"the button's result")
		if got := r.sdkStates(); got[len(got)-1] != "connected" {
			t.Errorf("SDK states %v: want it still connected", got)
		}
		r.noPageProblems()
	})
	t.Run("deny", func(t *testing.T) {
		t.Parallel()
		r := b.start(t, false)
		id := r.connected()
		if err := chromedp.Do(r.dash, chromedp.SetValue(chromedp.CSS(`[data-panel="faults"] [name="code"]`), "20151")); err != nil {
			t.Fatal(err)
		}
		r.click(`[data-panel="faults"] [data-action="deny"]`)
		r.waitDash(`document.querySelector('[data-field="faults"]').textContent === "deny the next 1 init with 20151"`, "the faults to show the deny")
		// The next init is the SDK's own, after the drop.
		r.click(fmt.Sprintf(`[data-conn-id=%q] [data-action="drop"]`, id))
		r.waitSDK(`rec.states.at(-1) === "denied"`, "the SDK to be denied")
		r.waitSDK(`rec.events.some(e => e.name === "connectionError" && e.data.errorCode === 20151)`, "connectionError 20151 in the SDK")
		r.waitDash(`document.querySelector('[data-field="faults"]').textContent.startsWith("none")`, "the deny to be used up")
		r.noPageProblems()
	})
}

// The dashboard shows a connection within 100 ms of its init (90th
// percentile of 20 inits): a client initialises, and a MutationObserver in the dashboard stamps the moment its
// card first reads "connected". The page's clock is calibrated against the
// test's by reading it between two readings of ours.
func TestBrowserDashboardLatency(t *testing.T) {
	const (
		inits = 20
		limit = 100 * time.Millisecond
	)
	b := requireBrowser(t)
	r := b.start(t, true)
	if _, err := chromedp.Run(r.dash, chromedp.Evaluate[bool](`(() => {
		window.seenConnected = {};
		const list = document.getElementById("conn-list");
		new MutationObserver(() => {
			const at = performance.timeOrigin + performance.now();
			for (const el of list.querySelectorAll("[data-conn-id]")) {
				if (!(el.dataset.connId in seenConnected) && el.querySelector('[data-field="state"]').textContent === "connected") {
					seenConnected[el.dataset.connId] = at;
				}
			}
		}).observe(list, { subtree: true, childList: true, characterData: true });
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}

	// offset: the page's clock minus ours, from the tightest of a few readings.
	var offset, spread float64 = 0, 1e9
	for range 5 {
		before := float64(time.Now().UnixMicro()) / 1000
		page, err := chromedp.Run(r.dash, chromedp.Evaluate[float64](`performance.timeOrigin + performance.now()`))
		after := float64(time.Now().UnixMicro()) / 1000
		if err != nil {
			t.Fatal(err)
		}
		if after-before < spread {
			spread, offset = after-before, page-(before+after)/2
		}
	}

	token := serveToken(t, interopSecret, time.Hour)
	var lat []time.Duration
	for i := 1; i <= inits; i++ {
		ws := serveDial(t, r.serve.url)
		sent := float64(time.Now().UnixMicro()) / 1000
		reply := serveExchange(t, ws, twilsock.NewInit(token, nil, twilsock.Metadata{}, nil))
		if !reply.Header.Status.OK() {
			t.Fatalf("init %d answered %+v", i, reply.Header.Status)
		}
		seen, err := chromedp.Run(r.dash, chromedp.Poll[float64](fmt.Sprintf(`seenConnected["c%d"]`, i),
			chromedp.WithPollingTimeout(browserWait), chromedp.WithPollingInterval(5*time.Millisecond)))
		if err != nil {
			t.Fatalf("the dashboard never showed c%d connected: %v", i, err)
		}
		lat = append(lat, time.Duration((seen-offset-sent)*float64(time.Millisecond)))
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	median, p90, worst := sorted[len(sorted)/2], sorted[len(sorted)*9/10-1], sorted[len(sorted)-1]
	t.Logf("init sent → dashboard shows it connected, %d inits: median %v, p90 %v, max %v (clock calibration ±%.2fms); all: %v",
		inits, median.Round(10*time.Microsecond), p90.Round(10*time.Microsecond), worst.Round(10*time.Microsecond), spread/2, lat)
	// The 90th percentile, not the worst: on a machine shared with other
	// work one sample in twenty can wait on a CPU for longer than the page
	// and the server take together (the log above keeps every sample).
	if p90 > limit {
		t.Errorf("the dashboard took %v (90th percentile; median %v, max %v) to show a connection after its init; the limit is %v",
			p90, median, worst, limit)
	}
	r.noPageProblems()
}

// The README's picture of the dashboard: real SDK clients in three states,
// faults armed, a token minted. With -update it rewrites docs/dashboard.png.
func TestBrowserDashboardScreenshot(t *testing.T) {
	b := requireBrowser(t)
	r := b.start(t, false, "--about-to-expire", "3m")
	id := r.connected()
	bob := b.openApp(t, r.deadline, r.base, "bob")
	r.wait(bob, `rec.states.includes("connected")`, "bob's SDK to connect")
	r.click(fmt.Sprintf(`[data-conn-id=%q] [data-action="about-to-expire"]`, id))
	r.waitSDK(`rec.events.some(e => e.name === "tokenAboutToExpire")`, "tokenAboutToExpire")

	// carol's init waits on the init delay: she shows as initialising.
	if err := chromedp.Do(r.dash, chromedp.SetValue(chromedp.CSS(`[data-panel="faults"] [name="delay_ms"]`), "60000")); err != nil {
		t.Fatal(err)
	}
	r.click(`[data-panel="faults"] [data-action="init-delay"]`)
	r.waitDash(`document.querySelector('[data-field="faults"]').textContent.includes("60000")`, "the init delay")
	b.openApp(t, r.deadline, r.base, "carol")
	r.waitDash(`[...document.querySelectorAll('[data-conn-id] [data-field="state"]')].some(e => e.textContent === "initialising")`, "carol initialising")
	r.click(`[data-panel="faults"] [data-action="refuse-upgrades"]`)
	r.waitDash(`document.querySelector('[data-field="faults"]').textContent.includes("refuse")`, "the refusal")
	if err := chromedp.Do(r.dash, chromedp.SetValue(chromedp.CSS(`[data-panel="mint"] [name="identity"]`), "dave")); err != nil {
		t.Fatal(err)
	}
	r.click(`[data-panel="mint"] [data-action="mint"]`)
	r.waitDash(`document.getElementById("minted").value.startsWith("eyJ")`, "the minted token")
	r.waitDash(`document.querySelectorAll("#stats dd").length > 0`, "the counters")
	if _, err := chromedp.Run(r.dash, chromedp.Evaluate[bool](`document.activeElement.blur(), getSelection().removeAllRanges(), scrollTo(0, 0), true`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(r.dash, chromedp.FullScreenshot(100))
	if err != nil || len(png) < 1000 {
		t.Fatalf("screenshot: %d bytes, %v", len(png), err)
	}
	r.noPageProblems()
	if updateGolden() {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Behind a control token, the dashboard works from the URL serve prints: the
// token moves into an HttpOnly cookie, leaves the address bar, and the
// page's own requests and event stream carry it.
func TestBrowserDashboardControlToken(t *testing.T) {
	b := requireBrowser(t)
	deadline, cancel := context.WithTimeout(context.Background(), browserTestTimeout)
	defer cancel()
	// startServe's environment knows one variable; it serves as the control token too.
	p, err := startServe("--control-token-env", interopSecretEnv)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
	}()
	r := &browserRun{t: t, serve: p, deadline: deadline, base: "http" + strings.TrimPrefix(strings.TrimSuffix(p.url, "/v3/wsconnect"), "ws")}
	r.dash = b.tab(t, deadline)
	if err := chromedp.Do(r.dash, chromedp.Navigate(r.base+"/?control_token="+interopSecret)); err != nil {
		t.Fatal(err)
	}
	r.waitDash(`document.body.dataset.stream === "live"`, "the event stream, with the cookie")
	got, err := chromedp.Run(r.dash, chromedp.Evaluate[[]string](`[location.pathname + location.search, document.cookie]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "/" || got[1] != "" {
		t.Errorf("after the printed URL: address %q, cookies visible to scripts %q; want / and none", got[0], got[1])
	}
	ws := serveDial(t, p.url)
	serveExchange(t, ws, twilsock.NewInit(serveToken(t, interopSecret, time.Hour), nil, twilsock.Metadata{}, nil))
	r.waitDash(`document.querySelector('[data-conn-id="c1"] [data-field="state"]')?.textContent === "connected"`, "c1 on the dashboard")
	r.click(`[data-conn-id="c1"] [data-action="about-to-expire"]`)
	r.waitDash(`document.querySelector('[data-conn-id="c1"] output').textContent === "✓ about-to-expire sent to c1"`, "the action, authorised by the cookie")
}
