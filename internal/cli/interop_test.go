package cli

// The interop suite: Twilio's real JavaScript clients (twilsock 1.0.2 and
// @twilio/conversations 3.0.1, pinned in testdata/interop) are the oracle.
//
// TestInteropSDK starts `convctl serve` in process with a fault, points a
// real client at it (testdata/interop/scenario.js) and asserts the public
// state sequence and events the SDK reports: the sequences observed from the
// same clients (docs/protocol.md, "Observed behaviour"). It proves the server is
// accepted and its faults look to the SDK like Twilio's own.
//
// TestInteropConnect runs `convctl connect -o json` in process against the
// same kind of server and asserts it walks the same public states the SDK
// walked in the same scenario, in this run, and reports the same events.
//
// docs/interop.md says how to run it and what each scenario proves.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
)

const (
	// interopSecret signs the tokens the drivers mint. It is a throwaway
	// value; nothing here can reach Twilio.
	interopSecret = "interop-test-secret-0123456789abcdef"
	// interopSecretEnv names it for `convctl serve --secret-env`; the in-process
	// getenv answers it, so the process environment is never touched.
	interopSecretEnv = "CONVCTL_INTEROP_SECRET"

	serveStartTimeout = 15 * time.Second
	serveStopTimeout  = 10 * time.Second
	driverTimeout     = 45 * time.Second // the driver's own hard bound is 30 s
	connectRunTimeout = 45 * time.Second
	interopParallel   = 8 // scenarios in flight at once; they mostly wait on timers
)

// ---------------------------------------------------------------------------
// The scenarios.

// interopCase is one scenario, seen from both clients.
type interopCase struct {
	name     string   // subtest name
	scenario string   // the driver's scenario (node scenario.js --list)
	serve    []string // `convctl serve` fault flags
	// tls serves wss:// (serve --tls, its CA written to a file); the SDK
	// trusts the CA through NODE_EXTRA_CA_CERTS, connect through --ca-file.
	tls bool
	ttl int // token lifetime in seconds for the driver's --ttl (0: its default)
	// stopServeOn stops the server (as SIGINT would) as soon as the driver
	// reports this public state.
	stopServeOn string

	// What the SDK must do (docs/protocol.md, "Observed behaviour").
	states []string
	check  func(t *testing.T, r *sdkRun)

	// The same scenario through `convctl connect`; nil when connect cannot
	// play it (it has no way to send a bad update, or to wait on a control call).
	connect *connectCase
}

// connectCase is how `convctl connect` plays a scenario.
type connectCase struct {
	token   mintSpec
	args    []string // beyond -o json --url --token-cmd
	exit    int
	outcome string
	cause   string // cause.kind; "" means cause must be null
	check   func(t *testing.T, sdk *sdkRun, c *connectRun)
	// stopServeWhenConnected stops the server once the control API lists a
	// connected connection.
	stopServeWhenConnected bool
	// collapseRepeats compares events with consecutive repeats folded, for
	// scenarios where the two clients give up after different numbers of
	// identical retries.
	collapseRepeats bool
	// knownDiscrepancy, when set, names a reported difference between connect
	// and the SDK in this scenario's states. While it persists the subtest is
	// skipped with that message; once connect matches, the subtest fails so
	// the marker gets removed.
	knownDiscrepancy string
}

// mintSpec says which tokens `connect --token-cmd` gets, all minted by
// mint.js with Twilio's helper.
type mintSpec struct {
	ttl         int  // seconds; 0 means 3600
	wrongSecret bool // signed with a secret the server does not know
	nbfIn       int  // when set, nbf is this many seconds from now
	// laterTTL, when set, makes the first fetch return a ttl token and every
	// later one a laterTTL token. Both are minted before connect starts and
	// the command only prints them: a refresh that spawned node could take
	// longer, on a loaded machine, than the about-to-expire window it must
	// fit in.
	laterTTL int
}

func interopCases() []interopCase {
	connected := []string{"connecting", "connected", "disconnecting", "disconnected"}
	denied := []string{"connecting", "denied"}
	return []interopCase{
		{
			name: "valid", scenario: "valid",
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireActOK(t, "updateToken")
				r.requireDriverValue(t, "stateAfterUpdate", "connected")
				r.requireActOK(t, "disconnect")
				r.requireNoEvent(t, "connectionError")
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				args: []string{"--update-token"}, exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireEvent(t, "tokenUpdated")
				},
			},
		},
		{
			// The same as valid, over wss:// with serve's throwaway CA.
			name: "valid-tls", scenario: "valid", tls: true,
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireActOK(t, "updateToken")
				r.requireDriverValue(t, "stateAfterUpdate", "connected")
				r.requireActOK(t, "disconnect")
				r.requireNoEvent(t, "connectionError")
			},
			connect: &connectCase{
				args: []string{"--update-token"}, exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireEvent(t, "tokenUpdated")
					n := c.report.Network
					if n == nil || n.TLS == nil || !n.TLS.Verified || n.TLS.Version == "" || !strings.HasPrefix(c.report.URL, "wss://") {
						t.Errorf("network = %+v", n)
					}
				},
			},
		},
		{
			name: "update-bad-signature", scenario: "update-bad-signature",
			states: []string{"connecting", "connected", "denied", "connecting", "connected", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				r.requireActFailed(t, "updateToken(bad)", "Unauthorized")
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20107)})
				r.requireActOK(t, "updateToken(good)")
				r.requireNoEvent(t, "tokenExpired")
			},
		},
		{
			name: "bad-signature", scenario: "bad-signature",
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20107)})
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				token: mintSpec{wrongSecret: true}, exit: exitFailed, outcome: "denied", cause: "token_rejected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseCodes(t, 401, 20107) },
			},
		},
		{
			name: "expired", scenario: "expired",
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireEventOrder(t, "tokenExpired", "connectionError")
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20104)})
			},
			connect: &connectCase{
				token: mintSpec{ttl: -60}, exit: exitFailed, outcome: "denied", cause: "token_expired",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseCodes(t, 401, 20104) },
			},
		},
		{
			// Clock skew: the issuing server runs ahead.
			name: "not-yet-valid", scenario: "not-yet-valid",
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20105)})
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				token: mintSpec{nbfIn: 300}, exit: exitFailed, outcome: "denied", cause: "token_rejected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseCodes(t, 401, 20105) },
			},
		},
		{
			// The classic mistake: a TTL in milliseconds, so exp is 41 days away.
			name: "ttl-in-ms", scenario: "ttl-in-ms",
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20157)})
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				token: mintSpec{ttl: 3600 * 1000}, exit: exitFailed, outcome: "denied", cause: "token_rejected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseCodes(t, 401, 20157) },
			},
		},
		{
			name: "deny-20151", scenario: "deny", serve: []string{"--deny", "20151"},
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20151)})
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				exit: exitFailed, outcome: "denied", cause: "token_rejected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseCodes(t, 401, 20151) },
			},
		},
		{
			// --deny 20104 must look to the SDK exactly like an expired token.
			name: "deny-20104", scenario: "deny", serve: []string{"--deny", "20104"},
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireEventOrder(t, "tokenExpired", "connectionError")
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20104)})
			},
			connect: &connectCase{exit: exitFailed, outcome: "denied", cause: "token_expired"},
		},
		{
			name: "expiry", scenario: "expiry", ttl: 5, serve: []string{"--about-to-expire", "3s"},
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireEventOrder(t, "tokenAboutToExpire", "tokenExpired")
				r.requireNoEvent(t, "connectionError")
				exp := r.tokenExpiresAt(t)
				// The server's two timers, seen from the client: about-to-expire
				// when the token enters its last 3 s (at once if it connected
				// later than that), close 410 at exp.
				r.requireEventAround(t, "tokenAboutToExpire", max(exp-3000, r.stateAt(t, "connected")))
				r.requireEventAround(t, "tokenExpired", exp)
				// SDK quirk: disconnecting lasts its 3 s DISCONNECTING_TIMEOUT.
				r.requireStateGap(t, "disconnecting", "disconnected", 2500, 4500)
			},
			connect: &connectCase{
				token: mintSpec{ttl: 5}, args: []string{"--hold", "20s"},
				exit: exitFailed, outcome: "disconnected", cause: "token_expired",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireCauseHTTP(t, 410)
					c.requireStateGap(t, "disconnecting", "disconnected", 2500, 4500)
				},
			},
		},
		{
			// The default 3-minute window with a token that lives less than
			// that: about-to-expire must come at once, as the SDK docs say.
			name: "expiry-default-window", scenario: "expiry", ttl: 4,
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireEventOrder(t, "tokenAboutToExpire", "tokenExpired")
				r.requireEventAround(t, "tokenAboutToExpire", r.stateAt(t, "connected"))
				r.requireEventAround(t, "tokenExpired", r.tokenExpiresAt(t))
				r.requireNoEvent(t, "connectionError")
			},
			connect: &connectCase{
				token: mintSpec{ttl: 4}, args: []string{"--hold", "20s"},
				exit: exitFailed, outcome: "disconnected", cause: "token_expired",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireCauseHTTP(t, 410) },
			},
		},
		{
			name: "renew", scenario: "renew", ttl: 5, serve: []string{"--about-to-expire", "3s"},
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireEvent(t, "tokenAboutToExpire")
				r.requireActOK(t, "updateToken")
				r.requireDriverValue(t, "stateAfterFirstExp", "connected")
				r.requireNoEvent(t, "tokenExpired")
				r.requireNoEvent(t, "connectionError")
			},
			connect: &connectCase{
				token: mintSpec{ttl: 5, laterTTL: 3600}, args: []string{"--renew", "--hold", "7s"},
				exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireEvent(t, "tokenUpdated")
					c.requireNoEvent(t, "tokenExpired")
				},
			},
		},
		{
			name: "drop", scenario: "drop", serve: []string{"--drop-after", "300ms"},
			states: []string{"connecting", "connected", "connecting", "connected", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				r.requireNoTerminalError(t)
				// First retry after the SDK's minimum backoff, 1 s ±20%.
				r.requireStateGapAfter(t, 1, "connecting", "connected", 700, 3000)
			},
			connect: &connectCase{
				args: []string{"--hold", "4s"}, exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireReconnects(t, 1, "")
					c.requireFirstDelay(t, 700, 3000)
				},
			},
		},
		{
			name: "offload", scenario: "offload", serve: []string{"--offload-after", "300ms", "--offload-backoff", "1500ms"},
			states: []string{"connecting", "connected", "disconnecting", "connecting", "connected", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				r.requireNoEvent(t, "connectionError")
				// SDK quirk: disconnecting for 3 s after the server's close 308…
				r.requireStateGap(t, "disconnecting", "connecting", 2500, 4500)
				// …then a backoff of at least reconnect_min_ms (1500 ms, -20%):
				// the SDK's own 1 s minimum would allow 800 ms.
				r.requireStateGapAfter(t, 1, "connecting", "connected", 1200, 4000)
			},
			connect: &connectCase{
				args: []string{"--hold", "8s"}, exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					c.requireStateGap(t, "disconnecting", "connecting", 2500, 4500)
					c.requireReconnects(t, 1, "")
					c.requireFirstDelay(t, 1200, 4000)
				},
			},
		},
		{
			name: "refuse-upgrades", scenario: "refuse-upgrades", serve: []string{"--refuse-upgrades", "2"},
			// "retrying" is not a public state, but the SDK emits it once per
			// refused upgrade (docs/protocol.md, "Observed behaviour", scenario f).
			states: []string{"connecting", "retrying", "retrying", "connected", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				errs := r.connectionErrors()
				want := sdkError{terminal: false}
				r.requireConnectionErrors(t, want, want)
				for _, e := range errs {
					if !strings.Contains(e.Message, "503") {
						t.Errorf("connectionError message %q does not name the 503 the server answered", e.Message)
					}
				}
			},
			connect: &connectCase{
				exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) { c.requireReconnects(t, 2, "503") },
			},
		},
		{
			// An init over the 64 KiB header limit (a token for a 70,000-
			// character identity) is answered 413, which the SDK reports as a
			// connection error and retries with backoff, instead of waiting
			// 30 s for nothing and resending (docs/serve-limits.md).
			name: "oversize-init", scenario: "oversize-init",
			states: []string{"connecting", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				want := sdkError{terminal: false, http: iopInt(413)}
				r.requireConnectionErrors(t, want, want)
				for _, e := range r.connectionErrors() {
					if !strings.Contains(e.Message, "exceeds the limit of 65536 bytes") {
						t.Errorf("connectionError message %q does not name the limit", e.Message)
					}
				}
			},
		},
		{
			name: "init-delay", scenario: "init-delay", serve: []string{"--init-delay", "600ms"},
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireStateGap(t, "connecting", "connected", 550, 10000)
			},
			connect: &connectCase{
				exit: exitOK, outcome: "connected",
				check: func(t *testing.T, _ *sdkRun, c *connectRun) {
					if c.report.Timing.Init == nil || *c.report.Timing.Init < 550 {
						t.Errorf("connect timing_ms.init = %v, want >= 550 (server --init-delay 600ms)", iopFmtFloat(c.report.Timing.Init))
					}
				},
			},
		},
		{
			name: "control-about-to-expire", scenario: "control-about-to-expire",
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireActOK(t, "control about-to-expire")
				r.requireEvent(t, "tokenAboutToExpire")
				r.requireDriverValue(t, "stateAfterAboutToExpire", "connected")
				r.requireNoEvent(t, "tokenExpired")
			},
		},
		{
			name: "control-close-410", scenario: "control-close-410",
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireActOK(t, "control close 410")
				r.requireEvent(t, "tokenExpired")
				r.requireNoEvent(t, "connectionError")
				r.requireStateGap(t, "disconnecting", "disconnected", 2500, 4500)
			},
		},
		{
			name: "control-close-401", scenario: "control-close-401",
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				r.requireActOK(t, "control close 401")
				r.requireNoEvent(t, "tokenExpired")
				r.requireNoEvent(t, "connectionError")
				r.requireStateGap(t, "disconnecting", "disconnected", 2500, 4500)
			},
		},
		{
			// convctl serve on SIGINT sends every connection close 308 ("server
			// shutting down") and a WebSocket close: to the SDK, an offload.
			name: "server-shutdown", scenario: "server-shutdown", stopServeOn: "connected",
			states: []string{"connecting", "connected", "disconnecting", "connecting", "retrying", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				r.requireStateGap(t, "disconnecting", "connecting", 2500, 4500)
				errs := r.connectionErrors()
				r.requireConnectionErrors(t, sdkError{terminal: false})
				if len(errs) == 1 && !strings.Contains(errs[0].Message, "ECONNREFUSED") {
					t.Errorf("connectionError %q, want the refused connection to the stopped server", errs[0].Message)
				}
				r.requireNoEvent(t, "tokenExpired")
			},
			connect: &connectCase{
				stopServeWhenConnected: true, collapseRepeats: true,
				// Giving up at --timeout while reconnecting must pass through
				// disconnecting, as an app's disconnect() does in the SDK.
				args: []string{"--hold", "5s", "--timeout", "8s"}, exit: exitFailed, outcome: "disconnected", cause: "offload",
			},
		},
		{
			name: "conversations", scenario: "conversations",
			states: connected,
			check: func(t *testing.T, r *sdkRun) {
				// Expected: the server answers the Configuration fetch 404
				// (docs/protocol.md, "The Conversations client on top"), so the client fails its own
				// init while its connection stays up.
				r.requireEventData(t, "stateChanged", `"failed"`)
				fails := r.events("initFailed")
				if len(fails) == 0 || !strings.Contains(string(fails[0].Data), "Configuration") {
					t.Errorf("initFailed = %s, want one naming the Configuration fetch", iopEntries(fails))
				}
				r.requireDriverValue(t, "stateAfterInitFailed", "connected")
				r.requireActOK(t, "shutdown")
				r.requireNoEvent(t, "connectionError")
			},
			connect: &connectCase{exit: exitOK, outcome: "connected"},
		},
		{
			name: "conversations-bad-signature", scenario: "conversations-bad-signature",
			states: denied,
			check: func(t *testing.T, r *sdkRun) {
				r.requireConnectionErrors(t, sdkError{terminal: true, http: iopInt(401), code: iopInt(20107)})
				// SDK quirk: failed and initFailed are each emitted twice.
				if n := len(r.events("initFailed")); n != 2 {
					t.Errorf("initFailed emitted %d times, want 2 (the SDK's documented double emission)", n)
				}
			},
		},
		{
			name: "conversations-drop", scenario: "conversations-drop", serve: []string{"--drop-after", "300ms"},
			states: []string{"connecting", "connected", "connecting", "connected", "disconnecting", "disconnected"},
			check: func(t *testing.T, r *sdkRun) {
				r.requireNoTerminalError(t)
				r.requireActOK(t, "shutdown")
			},
		},
	}
}

// ---------------------------------------------------------------------------
// The tests.

func TestInteropSDK(t *testing.T) {
	env := requireInterop(t)
	cases := selectedCases(interopCases())
	runs := env.sdkRuns(cases)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runs[tc.name]
			t.Log(r.took)
			if r.err != nil {
				t.Fatalf("%v\n%s", r.err, r.transcript())
			}
			defer func() {
				if t.Failed() {
					t.Logf("SDK transcript:\n%s", r.transcript())
				}
			}()
			r.requireCleanRun(t)
			if got := r.states(); !slices.Equal(got, tc.states) {
				t.Errorf("SDK public states = %v\nwant (docs/protocol.md)  %v", got, tc.states)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestInteropConnect(t *testing.T) {
	env := requireInterop(t)
	var cases []interopCase
	for _, tc := range selectedCases(interopCases()) {
		if tc.connect != nil {
			cases = append(cases, tc)
		}
	}
	sdk := env.sdkRuns(cases)
	conn := env.connectRuns(t, cases)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := sdk[tc.name], conn[tc.name]
			t.Log(c.took)
			if c.err != nil {
				t.Fatalf("convctl connect: %v\n%s", c.err, c.transcript())
			}
			defer func() {
				if t.Failed() {
					t.Logf("convctl connect:\n%s", c.transcript())
					if s.err == nil {
						t.Logf("SDK transcript:\n%s", s.transcript())
					}
				}
			}()
			cc := tc.connect
			if c.code != cc.exit {
				t.Errorf("exit code = %d, want %d", c.code, cc.exit)
			}
			if c.report.Outcome != cc.outcome {
				t.Errorf("outcome = %q, want %q", c.report.Outcome, cc.outcome)
			}
			switch {
			case cc.cause == "" && c.report.Cause != nil:
				t.Errorf("cause = %+v, want null on a clean run", *c.report.Cause)
			case cc.cause != "" && (c.report.Cause == nil || c.report.Cause.Kind != cc.cause):
				t.Errorf("cause = %s, want kind %q", iopCause(c.report.Cause), cc.cause)
			}

			// The SDK, in the same scenario and the same run, is the oracle.
			if s.err != nil {
				t.Fatalf("no SDK run to compare with: %v", s.err)
			}
			t.Logf("SDK:     states %v events %v", s.states(), s.comparableEvents())
			t.Logf("connect: states %v events %v reconnects %d", c.states(), c.comparableEvents(), len(c.report.Reconnects))
			gotEv, wantEv := c.comparableEvents(), s.comparableEvents()
			if cc.collapseRepeats {
				gotEv, wantEv = slices.Compact(gotEv), slices.Compact(wantEv)
			}
			if !slices.Equal(gotEv, wantEv) {
				t.Errorf("connect events = %v\nSDK's events   = %v", gotEv, wantEv)
			}
			want := normaliseSDKStates(s.states())
			got := c.states()
			switch same := slices.Equal(got, want); {
			case !same && cc.knownDiscrepancy != "":
				t.Skipf("KNOWN DISCREPANCY (reported, not yet fixed): %s\nconnect states = %v\nSDK's          = %v", cc.knownDiscrepancy, got, want)
			case !same:
				t.Errorf("connect public states = %v\nSDK's (retrying dropped)   = %v\nSDK raw                    = %v", got, want, s.states())
			case cc.knownDiscrepancy != "":
				t.Errorf("connect now walks the SDK's states %v: remove knownDiscrepancy %q", got, cc.knownDiscrepancy)
			}
			if cc.check != nil {
				cc.check(t, s, c)
			}
		})
	}
}

// selectedCases keeps the cases whose name the subtest part of -run
// matches, so `go test -run 'TestInteropSDK/drop'` does not wait for every
// scenario. Each scenario costs seconds of real time and the runs are
// started before the subtests, so t.Run's own filtering comes too late.
// Anything it cannot read keeps every case.
func selectedCases(cases []interopCase) []interopCase {
	f := flag.Lookup("test.run")
	if f == nil {
		return cases
	}
	parts := strings.Split(f.Value.String(), "/")
	if len(parts) < 2 || parts[1] == "" {
		return cases
	}
	re, err := regexp.Compile(parts[1])
	if err != nil {
		return cases
	}
	return slices.DeleteFunc(slices.Clone(cases), func(tc interopCase) bool { return !re.MatchString(tc.name) })
}

// normaliseSDKStates turns what the SDK reports into the contract's five
// public states. The one deliberate difference: twilsock emits stateChanged
// "retrying" on each failed socket (a refused upgrade, say) straight from its
// socketError handler, though "retrying" is an inner state whose public face
// is "connecting", which was already reported. The contract's `states`
// lists public states only, so "retrying" is dropped; connect reports the
// retry in `reconnects` and a non-terminal connectionError instead.
func normaliseSDKStates(states []string) []string {
	return slices.DeleteFunc(slices.Clone(states), func(s string) bool { return s == "retrying" })
}

// ---------------------------------------------------------------------------
// Environment: node and the pinned packages.

type interopEnv struct {
	node string // absolute path of node
	dir  string // absolute path of testdata/interop
}

// requireInterop finds node and the installed packages. Missing either is a
// skip on a developer machine and a failure in CI (CI=true), where the suite
// is the point.
func requireInterop(t *testing.T) *interopEnv {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "interop"))
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node is not on PATH")
	} else if major, verr := nodeMajor(node); verr != nil || major < 20 {
		missing = append(missing, fmt.Sprintf("node 20 or later is needed (found major %d, %v)", major, verr))
	}
	for _, pkg := range []string{"twilsock", "@twilio/conversations", "twilio"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing = append(missing, "testdata/interop/node_modules/"+pkg+" is not installed")
		}
	}
	if len(missing) > 0 {
		testpeer.Missing(t, "interop suite: "+strings.Join(missing, "; ")+". Install Node 20 and run `npm ci` in testdata/interop")
	}
	return &interopEnv{node: node, dir: dir}
}

func nodeMajor(node string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return 0, err
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
	major, _, _ := strings.Cut(v, ".")
	return strconv.Atoi(major)
}

// ---------------------------------------------------------------------------
// `convctl serve`, in process.

// serveProc is one `convctl serve` running in this process on a loopback port.
type serveProc struct {
	url    string
	log    *testpeer.Buffer // its stderr
	cancel context.CancelFunc
	done   chan int // its exit code

	stopOnce sync.Once
	stopErr  error
}

// startServe runs `convctl serve` through Run() on a goroutine and reads its
// URL from the first line of stdout. The caller must stop it.
func startServe(flags ...string) (*serveProc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	log := &testpeer.Buffer{}
	streams := &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: log}
	getenv := func(k string) string {
		if k == interopSecretEnv {
			return interopSecret
		}
		return ""
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--secret-env", interopSecretEnv}, flags...)
	p := &serveProc{log: log, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := Run(ctx, args, streams, getenv)
		pw.Close()
		p.done <- code
	}()

	first := make(chan string, 1)
	firstErr := make(chan error, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, err := br.ReadString('\n')
		if err != nil {
			firstErr <- fmt.Errorf("reading its first stdout line: %w (got %q)", err, line)
		} else {
			first <- strings.TrimSpace(line)
		}
		// Keep draining, so a later write to stdout never blocks the server.
		_, _ = io.Copy(io.Discard, br)
	}()

	fail := func(err error) (*serveProc, error) {
		cancel()
		select {
		case <-p.done:
		case <-time.After(serveStopTimeout):
		}
		return nil, fmt.Errorf("convctl %s: %w\nstderr:\n%s", strings.Join(args, " "), err, log.String())
	}
	select {
	case line := <-first:
		if !(strings.HasPrefix(line, "ws://127.0.0.1:") || strings.HasPrefix(line, "wss://127.0.0.1:")) || !strings.HasSuffix(line, "/v3/wsconnect") {
			return fail(fmt.Errorf("first stdout line %q is not a ws(s)://127.0.0.1:PORT/v3/wsconnect URL", line))
		}
		p.url = line
		return p, nil
	case err := <-firstErr:
		return fail(err)
	case code := <-p.done:
		p.done <- code
		return fail(fmt.Errorf("exited %d before printing its URL", code))
	case <-time.After(serveStartTimeout):
		return fail(fmt.Errorf("no URL on stdout within %v", serveStartTimeout))
	}
}

// stop cancels the server's context, as SIGINT would, and waits for run to
// return. A server that stops cleanly exits 0. Calls after the first return
// the first one's result.
func (p *serveProc) stop() error {
	p.stopOnce.Do(func() {
		p.cancel()
		select {
		case code := <-p.done:
			if code != exitOK {
				p.stopErr = fmt.Errorf("convctl serve exited %d when stopped", code)
			}
		case <-time.After(serveStopTimeout):
			p.stopErr = fmt.Errorf("convctl serve did not return within %v of its context ending", serveStopTimeout)
		}
	})
	return p.stopErr
}

// waitConnected waits until the control API lists a connected connection.
func (p *serveProc) waitConnected(ctx context.Context) error {
	u := "http" + strings.TrimPrefix(strings.TrimSuffix(p.url, "/v3/wsconnect"), "ws") + "/control/connections"
	// No keep-alive: nothing of this client outlives the server it polls.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if res, err := client.Do(req); err == nil {
			var list struct {
				Connections []struct {
					State string `json:"state"`
				} `json:"connections"`
			}
			derr := json.NewDecoder(res.Body).Decode(&list)
			res.Body.Close()
			if derr == nil && slices.ContainsFunc(list.Connections, func(c struct {
				State string `json:"state"`
			}) bool {
				return c.State == "connected"
			}) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("GET %s never listed a connected connection: %w", u, ctx.Err())
		case <-tick.C:
		}
	}
}

// withServe runs f against a fresh server and stops the server after.
func withServe(flags []string, f func(p *serveProc) error) (serverLog string, took phaseTimes, err error) {
	t0 := time.Now()
	p, err := startServe(flags...)
	took.start = time.Since(t0)
	if err != nil {
		return "", took, err
	}
	t1 := time.Now()
	runErr := f(p)
	took.run = time.Since(t1)
	t2 := time.Now()
	stopErr := p.stop()
	took.stop = time.Since(t2)
	return p.log.String(), took, errors.Join(runErr, stopErr)
}

// phaseTimes is where a scenario's wall time went, logged so a slow suite
// can be explained.
type phaseTimes struct{ start, run, stop time.Duration }

func (p phaseTimes) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("serve start %v, client %v, serve stop %v", r(p.start), r(p.run), r(p.stop))
}

// ---------------------------------------------------------------------------
// The SDK side: node scenario.js.

type sdkEntry struct {
	TMS  float64         `json:"t_ms"`
	Kind string          `json:"kind"`
	Name string          `json:"name"`
	Data json.RawMessage `json:"data"`
}

type sdkSummary struct {
	OK         bool     `json:"ok"`
	Scenario   string   `json:"scenario"`
	States     []string `json:"states"`
	Events     []string `json:"events"`
	Error      *string  `json:"error"`
	FinalState *string  `json:"final_state"`
}

type sdkRun struct {
	name      string
	entries   []sdkEntry
	summary   *sdkSummary
	exitCode  int
	stderr    string
	serverLog string
	ran       bool // the driver was started
	took      phaseTimes
	err       error // the run could not be made at all
}

// sdkRunCache shares SDK runs between TestInteropSDK and TestInteropConnect:
// both need them, and each costs seconds of real time.
var sdkRunCache struct {
	sync.Mutex
	runs map[string]*sdkRun
}

// sdkRuns runs every case's driver not already run, interopParallel at a
// time, each against its own server.
func (e *interopEnv) sdkRuns(cases []interopCase) map[string]*sdkRun {
	sdkRunCache.Lock()
	defer sdkRunCache.Unlock()
	if sdkRunCache.runs == nil {
		sdkRunCache.runs = map[string]*sdkRun{}
	}
	var todo []interopCase
	for _, tc := range cases {
		if _, ok := sdkRunCache.runs[tc.name]; !ok {
			todo = append(todo, tc)
		}
	}
	results := make([]*sdkRun, len(todo))
	iopParallel(len(todo), func(i int) { results[i] = e.runSDK(todo[i]) })
	for i, tc := range todo {
		sdkRunCache.runs[tc.name] = results[i]
	}
	out := map[string]*sdkRun{}
	for _, tc := range cases {
		out[tc.name] = sdkRunCache.runs[tc.name]
	}
	return out
}

func (e *interopEnv) runSDK(tc interopCase) *sdkRun {
	r := &sdkRun{name: tc.name}
	flags, caFile, err := tlsServe(tc)
	if err != nil {
		r.err = err
		return r
	}
	defer os.Remove(caFile)
	log, took, err := withServe(flags, func(p *serveProc) error {
		ctx, cancel := context.WithTimeout(context.Background(), driverTimeout)
		defer cancel()
		args := []string{"scenario.js", tc.scenario, "--url", p.url, "--timeout-ms", "30000"}
		if tc.ttl != 0 {
			args = append(args, "--ttl", strconv.Itoa(tc.ttl))
		}
		cmd := exec.CommandContext(ctx, e.node, args...)
		cmd.Dir = e.dir
		cmd.Env = append(os.Environ(), interopSecretEnv+"="+interopSecret)
		if caFile != "" {
			cmd.Env = append(cmd.Env, "NODE_EXTRA_CA_CERTS="+caFile)
		}
		cmd.WaitDelay = 5 * time.Second
		var stderr bytes.Buffer
		// onLine runs on exec's copying goroutine, which Run waits for, so
		// triggered is safe to read once Run returns.
		triggered, stopped := false, make(chan error, 1)
		stdout := &lineWriter{onLine: func(line []byte) {
			var e sdkEntry
			if triggered || tc.stopServeOn == "" || json.Unmarshal(line, &e) != nil || e.Kind != "state" || e.Name != tc.stopServeOn {
				return
			}
			triggered = true
			// Off this goroutine: the driver keeps writing while the server stops.
			go func() { stopped <- p.stop() }()
		}}
		cmd.Stdout, cmd.Stderr = stdout, &stderr
		runErr := cmd.Run()
		if triggered {
			if err := <-stopped; err != nil {
				return err
			}
		}
		r.ran = true
		r.stderr = stderr.String()
		r.exitCode = cmd.ProcessState.ExitCode()
		if perr := r.parse(stdout.bytes()); perr != nil {
			return perr
		}
		var ee *exec.ExitError
		if runErr != nil && !errors.As(runErr, &ee) {
			return fmt.Errorf("node %s: %w", strings.Join(args, " "), runErr)
		}
		return nil
	})
	r.serverLog, r.took, r.err = log, took, err
	return r
}

func (r *sdkRun) parse(out []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e sdkEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("driver printed a line that is not JSON: %q: %v", line, err)
		}
		if e.Kind == "summary" {
			var s sdkSummary
			if err := json.Unmarshal(e.Data, &s); err != nil {
				return fmt.Errorf("driver summary: %v", err)
			}
			r.summary = &s
			continue
		}
		r.entries = append(r.entries, e)
	}
	return sc.Err()
}

func (r *sdkRun) states() []string {
	var s []string
	for _, e := range r.entries {
		if e.Kind == "state" {
			s = append(s, e.Name)
		}
	}
	return s
}

func (r *sdkRun) events(name string) []sdkEntry {
	var out []sdkEntry
	for _, e := range r.entries {
		if e.Kind == "event" && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

func (r *sdkRun) driver(name string) []sdkEntry {
	var out []sdkEntry
	for _, e := range r.entries {
		if e.Kind == "driver" && e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// sdkError is the public part of the SDK's connectionError.
type sdkError struct {
	terminal bool
	http     *int
	code     *int
}

func (e sdkError) String() string {
	return fmt.Sprintf("{terminal:%v httpStatusCode:%s errorCode:%s}", e.terminal, iopFmtInt(e.http), iopFmtInt(e.code))
}

type sdkErrorData struct {
	Terminal       bool   `json:"terminal"`
	Message        string `json:"message"`
	HTTPStatusCode *int   `json:"httpStatusCode"`
	ErrorCode      *int   `json:"errorCode"`
}

func (r *sdkRun) connectionErrors() []sdkErrorData {
	var out []sdkErrorData
	for _, e := range r.events("connectionError") {
		var d sdkErrorData
		_ = json.Unmarshal(e.Data, &d)
		out = append(out, d)
	}
	return out
}

// comparableEvents are the SDK events the contract promises connect reports
// too, in order, with the fields both carry. tokenUpdated is connect's own
// (twilsock signals a successful update by emitting "connected" again).
func (r *sdkRun) comparableEvents() []string {
	var out []string
	for _, e := range r.entries {
		if e.Kind != "event" {
			continue
		}
		switch e.Name {
		case "tokenAboutToExpire", "tokenExpired":
			out = append(out, e.Name)
		case "connectionError":
			var d sdkErrorData
			_ = json.Unmarshal(e.Data, &d)
			out = append(out, sdkError{terminal: d.Terminal, http: d.HTTPStatusCode, code: d.ErrorCode}.String())
		}
	}
	return out
}

func (r *sdkRun) requireCleanRun(t *testing.T) {
	t.Helper()
	if r.summary == nil {
		t.Fatalf("driver printed no summary line (exit %d)\nstderr: %s", r.exitCode, r.stderr)
	}
	if r.exitCode != 0 || !r.summary.OK {
		t.Errorf("driver exit %d, ok=%v, error=%s", r.exitCode, r.summary.OK, iopFmtStr(r.summary.Error))
	}
	for _, name := range []string{"unhandledRejection", "uncaughtException"} {
		if ev := r.events(name); len(ev) > 0 {
			t.Errorf("the SDK hit %s: %s", name, iopEntries(ev))
		}
	}
}

func (r *sdkRun) requireEvent(t *testing.T, name string) {
	t.Helper()
	if len(r.events(name)) == 0 {
		t.Errorf("SDK emitted no %s", name)
	}
}

func (r *sdkRun) requireNoEvent(t *testing.T, name string) {
	t.Helper()
	if ev := r.events(name); len(ev) > 0 {
		t.Errorf("SDK emitted %s, want none: %s", name, iopEntries(ev))
	}
}

func (r *sdkRun) requireEventData(t *testing.T, name, data string) {
	t.Helper()
	for _, e := range r.events(name) {
		if string(e.Data) == data {
			return
		}
	}
	t.Errorf("SDK emitted no %s %s (got %s)", name, data, iopEntries(r.events(name)))
}

func (r *sdkRun) requireEventOrder(t *testing.T, first, then string) {
	t.Helper()
	a, b := r.events(first), r.events(then)
	if len(a) == 0 || len(b) == 0 {
		t.Errorf("want %s then %s; got %d and %d of them", first, then, len(a), len(b))
		return
	}
	if a[0].TMS > b[0].TMS {
		t.Errorf("%s at %.0f ms came after %s at %.0f ms", first, a[0].TMS, then, b[0].TMS)
	}
}

func (r *sdkRun) requireConnectionErrors(t *testing.T, want ...sdkError) {
	t.Helper()
	var got []string
	for _, d := range r.connectionErrors() {
		got = append(got, sdkError{terminal: d.Terminal, http: d.HTTPStatusCode, code: d.ErrorCode}.String())
	}
	var w []string
	for _, e := range want {
		// A non-terminal socket error carries no HTTP status or code.
		w = append(w, e.String())
	}
	if !slices.Equal(got, w) {
		t.Errorf("SDK connectionError = %v, want %v", got, w)
	}
}

func (r *sdkRun) requireNoTerminalError(t *testing.T) {
	t.Helper()
	for _, d := range r.connectionErrors() {
		if d.Terminal {
			t.Errorf("SDK reported a terminal connectionError: %+v", d)
		}
	}
}

// requireActOK checks that the driver's SDK call name resolved.
func (r *sdkRun) requireActOK(t *testing.T, name string) {
	t.Helper()
	ok, errMsg, found := r.actResult(name)
	if !found {
		t.Errorf("driver never finished %s", name)
	} else if !ok {
		t.Errorf("SDK %s failed: %s", name, errMsg)
	}
}

// requireActFailed checks that the driver's SDK call name rejected, with a
// message containing want.
func (r *sdkRun) requireActFailed(t *testing.T, name, want string) {
	t.Helper()
	ok, errMsg, found := r.actResult(name)
	switch {
	case !found:
		t.Errorf("driver never finished %s", name)
	case ok:
		t.Errorf("SDK %s succeeded, want it rejected", name)
	case !strings.Contains(errMsg, want):
		t.Errorf("SDK %s rejected with %q, want it to mention %q", name, errMsg, want)
	}
}

func (r *sdkRun) actResult(name string) (ok bool, errMsg string, found bool) {
	for _, e := range r.driver(name) {
		var d struct {
			Phase string `json:"phase"`
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Phase == "done" {
			return d.OK, d.Error, true
		}
	}
	return false, "", false
}

func (r *sdkRun) requireDriverValue(t *testing.T, name, want string) {
	t.Helper()
	ev := r.driver(name)
	if len(ev) == 0 {
		t.Errorf("driver recorded no %s", name)
		return
	}
	var got string
	_ = json.Unmarshal(ev[0].Data, &got)
	if got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

// stateAt is when the SDK first reported state.
func (r *sdkRun) stateAt(t *testing.T, state string) float64 {
	t.Helper()
	for _, e := range r.entries {
		if e.Kind == "state" && e.Name == state {
			return e.TMS
		}
	}
	t.Fatalf("SDK never reported state %s", state)
	return 0
}

// tokenExpiresAt is when, on the driver's clock, its first token expires.
func (r *sdkRun) tokenExpiresAt(t *testing.T) float64 {
	t.Helper()
	ev := r.driver("token")
	if len(ev) == 0 {
		t.Fatal("driver recorded no token expiry")
	}
	var d struct {
		ExpiresAtMS float64 `json:"expires_at_t_ms"`
	}
	if err := json.Unmarshal(ev[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.ExpiresAtMS
}

// Bounds for an event the server times: it may not come before the moment
// (bar clock rounding), and may come late by what a loaded machine adds to
// timers, frames and the driver's event loop.
const (
	eventEarlyMS = 250
	eventLateMS  = 2500
)

// requireEventAround checks the first event name came at about at, on the
// driver's clock: no more than eventEarlyMS before, eventLateMS after.
func (r *sdkRun) requireEventAround(t *testing.T, name string, at float64) {
	t.Helper()
	ev := r.events(name)
	if len(ev) == 0 {
		t.Errorf("SDK emitted no %s", name)
		return
	}
	if d := ev[0].TMS - at; d < -eventEarlyMS || d > eventLateMS {
		t.Errorf("%s at %.0f ms, want %.0f ms (-%d/+%d ms)", name, ev[0].TMS, at, eventEarlyMS, eventLateMS)
	}
}

// requireStateGap checks the time from the first entry into state from to
// the next state change, which must be to, lies in [lo, hi] ms.
func (r *sdkRun) requireStateGap(t *testing.T, from, to string, lo, hi float64) {
	t.Helper()
	r.requireStateGapAfter(t, 0, from, to, lo, hi)
}

// requireStateGapAfter is requireStateGap for the (skip+1)-th entry into from.
func (r *sdkRun) requireStateGapAfter(t *testing.T, skip int, from, to string, lo, hi float64) {
	t.Helper()
	var states []iopStateAt
	for _, e := range r.entries {
		if e.Kind == "state" {
			states = append(states, iopStateAt{e.Name, e.TMS})
		}
	}
	iopCheckGap(t, "SDK", states, skip, from, to, lo, hi)
}

type iopStateAt struct {
	name string
	at   float64
}

func iopCheckGap(t *testing.T, who string, states []iopStateAt, skip int, from, to string, lo, hi float64) {
	t.Helper()
	seen := 0
	for i, s := range states {
		if s.name != from {
			continue
		}
		if seen < skip {
			seen++
			continue
		}
		if i+1 >= len(states) || states[i+1].name != to {
			t.Errorf("%s: no %s right after %s #%d", who, to, from, skip+1)
			return
		}
		if gap := states[i+1].at - s.at; gap < lo || gap > hi {
			t.Errorf("%s: %s -> %s took %.0f ms, want %.0f..%.0f ms", who, from, to, gap, lo, hi)
		}
		return
	}
	t.Errorf("%s: state %s #%d never reached", who, from, skip+1)
}

func (r *sdkRun) transcript() string {
	var b strings.Builder
	for _, e := range r.entries {
		fmt.Fprintf(&b, "  [%8.1f ms] %-6s %s %s\n", e.TMS, e.Kind, e.Name, string(e.Data))
	}
	if r.summary != nil {
		fmt.Fprintf(&b, "  summary: ok=%v error=%s final=%s\n", r.summary.OK, iopFmtStr(r.summary.Error), iopFmtStr(r.summary.FinalState))
	}
	if r.ran {
		fmt.Fprintf(&b, "  driver exit %d\n", r.exitCode)
	} else {
		b.WriteString("  driver not run\n")
	}
	if r.stderr != "" {
		fmt.Fprintf(&b, "  driver stderr:\n%s\n", iopIndent(r.stderr))
	}
	if r.serverLog != "" {
		fmt.Fprintf(&b, "  server stderr:\n%s\n", iopIndent(r.serverLog))
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// The convctl side: `convctl connect -o json`, in process.

// connectReport is the part of the contract's JSON report the suite reads.
type connectReport struct {
	URL     string `json:"url"`
	Outcome string `json:"outcome"`
	States  []struct {
		State string  `json:"state"`
		AtMS  float64 `json:"at_ms"`
	} `json:"states"`
	Events []struct {
		Name        string  `json:"name"`
		AtMS        float64 `json:"at_ms"`
		Terminal    *bool   `json:"terminal"`
		HTTPStatus  *int    `json:"http_status"`
		TwilioError *int    `json:"twilio_error"`
		Message     string  `json:"message"`
	} `json:"events"`
	Reconnects []struct {
		Attempt int     `json:"attempt"`
		DelayMS float64 `json:"delay_ms"`
		Error   string  `json:"error"`
	} `json:"reconnects"`
	Timing struct {
		Init *float64 `json:"init"`
	} `json:"timing_ms"`
	Cause *connectCause `json:"cause"`
	// Network as the contract names it (only what the TLS case reads).
	Network *struct {
		TLS *struct {
			Version  string `json:"version"`
			Verified bool   `json:"verified"`
		} `json:"tls"`
	} `json:"network"`
}

type connectCause struct {
	Kind        string `json:"kind"`
	HTTPStatus  *int   `json:"http_status"`
	TwilioError *int   `json:"twilio_error"`
	Message     string `json:"message"`
}

type connectRun struct {
	args      []string
	code      int
	stdout    string
	stderr    string
	serverLog string
	report    connectReport
	took      phaseTimes
	err       error
}

func (e *interopEnv) connectRuns(t *testing.T, cases []interopCase) map[string]*connectRun {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(interopSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	results := make([]*connectRun, len(cases))
	iopParallel(len(cases), func(i int) {
		tc := cases[i]
		results[i] = e.runConnect(tc, secretFile, filepath.Join(dir, tc.name+".count"))
	})
	out := map[string]*connectRun{}
	for i, tc := range cases {
		out[tc.name] = results[i]
	}
	return out
}

func (e *interopEnv) runConnect(tc interopCase, secretFile, countFile string) *connectRun {
	c := &connectRun{}
	tokenCmd := e.mintCommand(tc.connect.token, secretFile)
	if tc.connect.token.laterTTL != 0 {
		var err error
		if tokenCmd, err = e.preMinted(tc.connect.token, secretFile, countFile); err != nil {
			c.err = err
			return c
		}
	}
	flags, caFile, err := tlsServe(tc)
	if err != nil {
		c.err = err
		return c
	}
	defer os.Remove(caFile)
	log, took, err := withServe(flags, func(p *serveProc) error {
		ctx, cancel := context.WithTimeout(context.Background(), connectRunTimeout)
		defer cancel()
		c.args = append([]string{"connect", "-o", "json", "--url", p.url, "--token-cmd", tokenCmd}, tc.connect.args...)
		if caFile != "" {
			c.args = append(c.args, "--ca-file", caFile)
		}
		streams, _, out, errOut := TestIO()
		stopErr := make(chan error, 1)
		waitCtx, stopWaiting := context.WithCancel(ctx)
		defer stopWaiting()
		if tc.connect.stopServeWhenConnected {
			go func() {
				if err := p.waitConnected(waitCtx); err != nil {
					stopErr <- err
					return
				}
				stopErr <- p.stop()
			}()
		} else {
			stopErr <- nil
		}
		c.code = Run(ctx, c.args, streams, func(string) string { return "" })
		// A run that ended before connecting leaves the waiter waiting; its
		// report says why, so the waiter's cancellation is no error.
		stopWaiting()
		if err := <-stopErr; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		c.stdout, c.stderr = out.String(), errOut.String()
		if ctx.Err() != nil {
			return fmt.Errorf("convctl connect did not return within %v", connectRunTimeout)
		}
		if err := json.Unmarshal(out.Bytes(), &c.report); err != nil {
			return fmt.Errorf("stdout is not one JSON report (exit %d): %v", c.code, err)
		}
		return nil
	})
	c.serverLog, c.took, c.err = log, took, err
	return c
}

// shQuote single-quotes s for sh -c.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// mintCommand is the --token-cmd that mints with Twilio's helper, as the
// SDK drivers do.
func (e *interopEnv) mintCommand(m mintSpec, secretFile string) string {
	q := shQuote
	ttl := m.ttl
	if ttl == 0 {
		ttl = 3600
	}
	cmd := []string{q(e.node), q(filepath.Join(e.dir, "mint.js")), "--secret-file", q(secretFile), "--ttl", strconv.Itoa(ttl)}
	if m.wrongSecret {
		cmd = append(cmd, "--wrong-secret")
	}
	if m.nbfIn != 0 {
		cmd = append(cmd, "--nbf-in", strconv.Itoa(m.nbfIn))
	}
	return strings.Join(cmd, " ")
}

// preMinted mints m's two tokens now and returns a --token-cmd that prints
// the first on its first call and the second on every later one.
func (e *interopEnv) preMinted(m mintSpec, secretFile, countFile string) (string, error) {
	first, later := m, m
	first.laterTTL, later.laterTTL, later.ttl = 0, 0, m.laterTTL
	var files [2]string
	for i, spec := range []mintSpec{first, later} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, "sh", "-c", e.mintCommand(spec, secretFile)).Output()
		cancel()
		if err != nil {
			return "", fmt.Errorf("minting with mint.js: %w", err)
		}
		files[i] = countFile + fmt.Sprintf(".%d.jwt", i)
		if err := os.WriteFile(files[i], out, 0o600); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("if [ -e %[1]s ]; then cat %[3]s; else : > %[1]s; cat %[2]s; fi",
		shQuote(countFile), shQuote(files[0]), shQuote(files[1])), nil
}

func (c *connectRun) states() []string {
	var s []string
	for _, st := range c.report.States {
		s = append(s, st.State)
	}
	return s
}

func (c *connectRun) comparableEvents() []string {
	var out []string
	for _, e := range c.report.Events {
		switch e.Name {
		case "tokenAboutToExpire", "tokenExpired":
			out = append(out, e.Name)
		case "connectionError":
			out = append(out, sdkError{terminal: e.Terminal != nil && *e.Terminal, http: e.HTTPStatus, code: e.TwilioError}.String())
		}
	}
	return out
}

func (c *connectRun) requireEvent(t *testing.T, name string) {
	t.Helper()
	for _, e := range c.report.Events {
		if e.Name == name {
			return
		}
	}
	t.Errorf("connect reported no %s event", name)
}

func (c *connectRun) requireNoEvent(t *testing.T, name string) {
	t.Helper()
	for _, e := range c.report.Events {
		if e.Name == name {
			t.Errorf("connect reported %s at %.0f ms, want none", name, e.AtMS)
		}
	}
}

func (c *connectRun) requireCauseCodes(t *testing.T, http, code int) {
	t.Helper()
	cs := c.report.Cause
	if cs == nil || cs.HTTPStatus == nil || *cs.HTTPStatus != http || cs.TwilioError == nil || *cs.TwilioError != code {
		t.Errorf("cause = %s, want http_status %d, twilio_error %d", iopCause(cs), http, code)
	}
}

func (c *connectRun) requireCauseHTTP(t *testing.T, http int) {
	t.Helper()
	cs := c.report.Cause
	if cs == nil || cs.HTTPStatus == nil || *cs.HTTPStatus != http {
		t.Errorf("cause = %s, want http_status %d", iopCause(cs), http)
	}
}

func (c *connectRun) requireStateGap(t *testing.T, from, to string, lo, hi float64) {
	t.Helper()
	var states []iopStateAt
	for _, s := range c.report.States {
		states = append(states, iopStateAt{s.State, s.AtMS})
	}
	iopCheckGap(t, "connect", states, 0, from, to, lo, hi)
}

// requireReconnects checks the number of retries and, when errContains is
// set, that each names why.
func (c *connectRun) requireReconnects(t *testing.T, n int, errContains string) {
	t.Helper()
	if len(c.report.Reconnects) != n {
		t.Errorf("connect reported %d reconnects, want %d: %+v", len(c.report.Reconnects), n, c.report.Reconnects)
		return
	}
	for _, r := range c.report.Reconnects {
		if errContains != "" && !strings.Contains(r.Error, errContains) {
			t.Errorf("reconnect %d error %q does not mention %q", r.Attempt, r.Error, errContains)
		}
	}
}

func (c *connectRun) requireFirstDelay(t *testing.T, lo, hi float64) {
	t.Helper()
	if len(c.report.Reconnects) == 0 {
		return
	}
	if d := c.report.Reconnects[0].DelayMS; d < lo || d > hi {
		t.Errorf("connect's first reconnect waited %.0f ms, want %.0f..%.0f ms", d, lo, hi)
	}
}

func (c *connectRun) transcript() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  convctl %s\n  exit %d\n", strings.Join(c.args, " "), c.code)
	fmt.Fprintf(&b, "  stdout:\n%s\n", iopIndent(c.stdout))
	if c.stderr != "" {
		fmt.Fprintf(&b, "  stderr:\n%s\n", iopIndent(c.stderr))
	}
	if c.serverLog != "" {
		fmt.Fprintf(&b, "  server stderr:\n%s\n", iopIndent(c.serverLog))
	}
	return b.String()
}

// ---------------------------------------------------------------------------
// Small helpers.

// iopParallel calls f(0..n-1), interopParallel at a time, and waits for all.
func iopParallel(n int, f func(i int)) {
	sem := make(chan struct{}, interopParallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// lineWriter keeps everything written to it and calls onLine with each
// complete line as it arrives, so a test can act on what a child process
// reports while it is still running. Not safe for concurrent writers; exec
// uses one.
type lineWriter struct {
	all     bytes.Buffer
	partial []byte
	onLine  func(line []byte)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.onLine(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) bytes() []byte { return w.all.Bytes() }

func iopInt(v int) *int { return &v }

func iopFmtInt(p *int) string {
	if p == nil {
		return "null"
	}
	return strconv.Itoa(*p)
}

func iopFmtFloat(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

func iopFmtStr(p *string) string {
	if p == nil {
		return "null"
	}
	return strconv.Quote(*p)
}

func iopCause(c *connectCause) string {
	if c == nil {
		return "null"
	}
	return fmt.Sprintf("{kind:%s http_status:%s twilio_error:%s message:%q}", c.Kind, iopFmtInt(c.HTTPStatus), iopFmtInt(c.TwilioError), c.Message)
}

func iopEntries(es []sdkEntry) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, fmt.Sprintf("%s@%.0fms %s", e.Name, e.TMS, string(e.Data)))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func iopIndent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// tlsServe adds serve --tls and --tls-ca-out to a TLS case's flags and
// returns the file the CA goes to ("" for a ws:// case).
func tlsServe(tc interopCase) (flags []string, caFile string, err error) {
	if !tc.tls {
		return tc.serve, "", nil
	}
	f, err := os.CreateTemp("", "convctl-interop-ca-*.pem")
	if err != nil {
		return nil, "", err
	}
	f.Close()
	return append(append([]string{}, tc.serve...), "--tls", "--tls-ca-out", f.Name()), f.Name(), nil
}
