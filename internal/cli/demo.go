package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
)

// DemoOptions is everything `convctl demo` was told.
type DemoOptions struct {
	IO      *IOStreams
	Debug   bool
	Output  string // text or json
	Version string
}

// NewCmdDemo builds `convctl demo`. runF runs the parsed options (nil: runDemo).
func NewCmdDemo(f *Factory, runF func(context.Context, *DemoOptions) error) *cobra.Command {
	if runF == nil {
		runF = runDemo
	}
	opts := &DemoOptions{IO: f.IO, Version: buildVersion()}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch a client go through every state, offline, in under 15 seconds",
		Long: `Start a local Twilsock server on 127.0.0.1, mint tokens for it with a throwaway
secret, and narrate four short scenes in which a client, speaking the same
frames as the Conversations SDK, goes through every public connection state:

  1. connect, update the token, disconnect   connecting → connected → disconnecting → disconnected
  2. token about to expire, renewed in time  stays connected (tokenAboutToExpire, tokenUpdated)
  3. a token signed with the wrong secret    connecting → denied, and why
  4. a token left to expire while connected  connected → disconnecting → disconnected, and why

Timings are compressed (tokens live seconds, not hours). Nothing leaves this
machine. Exits 0 when every scene ended as it should, 1 otherwise.`,
		Example: `  # The tour
  convctl demo

  # Every frame both ways and every inner state, as connect --debug shows them
  convctl demo --debug

  # The four connect reports, as JSON
  convctl demo -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runF(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Debug, "debug", false, "log every frame (tokens redacted) and every inner state on stderr")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// The demo's compressed timings. The server announces expiry demoAboutToExpire
// ahead; the short tokens live a few seconds.
const (
	demoAboutToExpire  = 2 * time.Second
	demoRenewTTL       = 4 * time.Second
	demoExpireTTL      = 2 * time.Second
	demoDisconnectWait = 300 * time.Millisecond
)

// demoScene is one short story with the outcome it must end in.
type demoScene struct {
	Title   string        `json:"title"`
	Story   string        `json:"-"`
	Expect  probe.Outcome `json:"expect"`
	Report  *probe.Report `json:"report"`
	Passed  bool          `json:"passed"`
	tokens  func(n int) (string, error)
	hold    time.Duration
	update  bool
	renew   bool
	timeout time.Duration
}

// demoIDs are well-formed but fictitious SIDs: the local server checks shape, not existence.
const (
	demoAccount = "AC00000000000000000000000000000001"
	demoAPIKey  = "SK00000000000000000000000000000001"
	demoService = "IS00000000000000000000000000000001"
)

func runDemo(ctx context.Context, opts *DemoOptions) error {
	io := opts.IO
	start := time.Now()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return cannotFinish(err)
	}
	secret = []byte(hex.EncodeToString(secret))

	var logger *slog.Logger
	if opts.Debug {
		logger = debuglog.New(io.ErrOut, debuglog.Options{Level: slog.LevelDebug, Color: io.ErrColorEnabled(), Start: start})
	}
	srv, err := startLocalServer(emulator.Config{
		Secret:        secret,
		AboutToExpire: demoAboutToExpire,
		Logger:        componentOrNil(logger, "server"),
	})
	if err != nil {
		return cannotFinish(err)
	}
	defer srv.stop()
	url := srv.url

	mint := func(ttl time.Duration, key []byte) (string, error) {
		return inspect.Mint(inspect.MintOptions{
			AccountSID: demoAccount, APIKeySID: demoAPIKey, Secret: key,
			Identity: "alice", ChatServiceSID: demoService, TTL: ttl,
		})
	}
	fresh := func(int) (string, error) { return mint(time.Hour, secret) }
	wrongKey := []byte("not-the-secret-the-server-knows!")
	scenes := []*demoScene{
		{
			Title:  "Connect, update the token, disconnect",
			Story:  "A healthy client: it connects, swaps in a fresh token the way an app's refresh handler does, and disconnects.",
			Expect: probe.OutcomeConnected, tokens: fresh, update: true, hold: 300 * time.Millisecond,
		},
		{
			Title:  "The token is about to expire, and is renewed in time",
			Story:  fmt.Sprintf("A token that lives %v; the server warns %v before it expires and the client renews it, as a well-written app does on tokenAboutToExpire.", demoRenewTTL, demoAboutToExpire),
			Expect: probe.OutcomeConnected, renew: true, hold: demoRenewTTL,
			tokens: func(n int) (string, error) {
				if n == 1 {
					return mint(demoRenewTTL, secret)
				}
				return mint(time.Hour, secret)
			},
		},
		{
			Title:  "A token signed with the wrong secret is denied",
			Story:  "The token endpoint signs with a secret that does not belong to the API Key in iss: Twilio answers 401 with error 20107.",
			Expect: probe.OutcomeDenied,
			tokens: func(int) (string, error) { return mint(time.Hour, wrongKey) },
		},
		{
			Title:  "A token left to expire while connected",
			Story:  fmt.Sprintf("A token that lives %v and an app that ignores tokenAboutToExpire: at expiry the server closes with 410 and the client ends disconnected.", demoExpireTTL),
			Expect: probe.OutcomeDisconnected, hold: 3 * demoExpireTTL,
			tokens: func(int) (string, error) { return mint(demoExpireTTL, secret) },
		},
	}

	out := io.Out
	cs := io.ColorScheme()
	if opts.Output == "text" {
		fmt.Fprintf(out, "%s a local Twilsock server is listening at %s\n", cs.Bold("convctl demo:"), url)
		fmt.Fprintf(out, "%s\n", cs.Dim("tokens are minted with a throwaway secret; nothing leaves this machine"))
	}
	allPassed := true
	for i, sc := range scenes {
		if err := ctx.Err(); err != nil {
			return cannotFinish(fmt.Errorf("demo interrupted: %w", err))
		}
		if opts.Output == "text" {
			fmt.Fprintf(out, "\n%s %s\n%s\n", cs.Bold(fmt.Sprintf("%d.", i+1)), cs.Bold(sc.Title), cs.Dim(sc.Story))
		}
		rep, err := runDemoScene(ctx, sc, url, secret, logger, opts)
		if err != nil {
			return cannotFinish(fmt.Errorf("scene %d: %w", i+1, err))
		}
		sc.Report = rep
		sc.Passed = rep.Outcome == sc.Expect
		allPassed = allPassed && sc.Passed
		if opts.Output == "text" {
			renderDemoVerdict(out, cs, sc)
		}
	}

	if opts.Output == "json" {
		if err := writeJSON(out, struct {
			URL    string       `json:"url"`
			Passed bool         `json:"passed"`
			Scenes []*demoScene `json:"scenes"`
		}{url, allPassed, scenes}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "\n%s every public state in %s: %s\n", cs.Bold("Seen:"), fmtDur(time.Since(start).Round(time.Millisecond)), strings.Join(statesSeen(scenes), ", "))
		if allPassed {
			fmt.Fprintf(out, "Next: %s, or point %s at your own token endpoint.\n", cs.Bold("convctl serve"), cs.Bold("convctl connect --debug --url ws://… --token-url …"))
		}
	}
	if !allPassed {
		return errors.New("a demo scene did not end as it should: this is a bug in convctl, please report it with the output of `convctl demo --debug`")
	}
	return nil
}

func runDemoScene(ctx context.Context, sc *demoScene, url string, secret []byte, logger *slog.Logger, opts *DemoOptions) (*probe.Report, error) {
	n := 0
	timeout := sc.timeout
	if timeout == 0 {
		timeout = sc.hold + 5*time.Second
	}
	cfg := probe.Config{
		URL: url,
		Token: func(context.Context) (string, error) {
			n++
			return sc.tokens(n)
		},
		Secret:         secret,
		Timeout:        timeout,
		Hold:           sc.hold,
		UpdateToken:    sc.update,
		Renew:          sc.renew,
		NoReconnect:    true,
		DisconnectWait: demoDisconnectWait,
		Version:        opts.Version,
		Logger:         componentOrNil(logger, "client"),
	}
	if opts.Output == "text" {
		cs := opts.IO.ColorScheme()
		cfg.Observer = func(u probe.Update) {
			if line, ok := demoLine(cs, u); ok {
				fmt.Fprintf(opts.IO.Out, "  %s %s\n", cs.Dim(fmt.Sprintf("%8s", fmtAt(ms(u.At)))), line)
			}
		}
	}
	return probe.Run(ctx, cfg)
}

// demoLine narrates one update: public states, events, and the phases of the
// connection; inner transitions are left to --debug.
func demoLine(cs *ColorScheme, u probe.Update) (string, bool) {
	switch u.Kind {
	case probe.UpdateState:
		if !u.PublicChanged {
			return "", false
		}
		return "state " + paintState(cs, u.State), true
	case probe.UpdatePhase:
		return cs.Dim(fmt.Sprintf("  %s done in %s", u.Phase, fmtDur(u.Duration))), true
	}
	return updateLine(cs, u, time.Now())
}

func renderDemoVerdict(w io.Writer, cs *ColorScheme, sc *demoScene) {
	rep := sc.Report
	mark := mark(cs, true, sc.Passed, false)
	fmt.Fprintf(w, "  %s outcome %s\n", mark, outcomeText(cs, rep.Outcome, sc.Expect))
	if c := rep.Cause; c != nil {
		writeCause(w, cs, "    ", "cause", c)
	}
}

// statesSeen lists the public states the scenes went through, in first-seen order.
func statesSeen(scenes []*demoScene) []string {
	var seen []string
	have := map[probe.State]bool{}
	for _, sc := range scenes {
		if sc.Report == nil {
			continue
		}
		for _, s := range sc.Report.States {
			if !have[s.State] {
				have[s.State] = true
				seen = append(seen, string(s.State))
			}
		}
	}
	return seen
}

func componentOrNil(l *slog.Logger, name string) *slog.Logger {
	if l == nil {
		return nil
	}
	return debuglog.Component(l, name)
}
