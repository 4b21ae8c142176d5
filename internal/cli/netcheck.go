package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netcheck"
	"github.com/convctl/convctl/pkg/netpath"
)

// NetcheckOptions is everything `convctl netcheck` was told.
type NetcheckOptions struct {
	IO        *IOStreams
	Region    string
	Timeout   time.Duration // each endpoint's check
	Output    string        // text or json
	Allowlist bool          // print what a firewall must allow; check nothing
	Every     time.Duration // 0: one round
	Count     int           // with Every: stop after this many rounds (0: until interrupted)
	Debug     bool
	Net       netpath.Config
	Now       func() time.Time

	// after waits between rounds (default time.After): tests drive the
	// schedule without sleeping.
	after func(time.Duration) <-chan time.Time
	// tune lets tests adjust the checker (public roots, endpoints).
	tune func(*netcheck.Config)
	// stable lets golden tests replace what varies from run to run
	// (timings, ports) before anything is rendered or summarised.
	stable func(*netcheck.Report)
}

// NewCmdNetcheck builds `convctl netcheck`. runF runs the parsed options
// (nil: runNetcheck), so tests can check what the flags turn into without
// dialling anything.
func NewCmdNetcheck(f *Factory, runF func(context.Context, *NetcheckOptions) error) *cobra.Command {
	opts := &NetcheckOptions{}
	var nf netFlags
	cmd := &cobra.Command{
		Use:   "netcheck",
		Short: "Check every endpoint a Conversations client needs, the way it reaches them",
		Long: `Check every endpoint a Twilio Conversations client needs in --region, at
once and each within --timeout, the way the client reaches it: the proxy
from the environment or --proxy, DNS (A and AAAA), TCP to each address, TLS
(the chain, whether it is intercepted), then the application step: tsock
must answer the WebSocket upgrade of /v3/wsconnect with 101 (no token is
sent; the socket is closed at once), and mcs, media, cds and aim count as
reachable on any HTTP answer. tsock, mcs and media are required; cds and aim
are informative (the JavaScript SDK reaches them through Twilsock).

The report has one line per endpoint (the address used, or "via proxy", and
each phase's time), then warnings (IPv6 broken, TLS intercepted, a proxy in
use) and a verdict that says what to ask IT for. -o json writes the same
facts as one JSON object (docs/json-reports.md).

--allowlist prints what a firewall must allow for the region, to paste into
a ticket for IT, and checks nothing.

--every repeats the check (until interrupted, or --count rounds): a line per
round (with -o json, one report object a line), then a summary per endpoint
with its success ratio and the p50/p95 of each phase. This is how a flaky
office network is caught. An interrupt (Ctrl-C, SIGTERM) ends the rounds and
prints the summary of those that finished.

Exit status: 0 when every required endpoint is reachable (warnings allowed);
with --every, in every round; 1 when one is not (with --every: in any
round); 2 on bad flags; 3 when interrupted before a round finished.`,
		Example: `  # Can this machine reach everything a Conversations client needs?
  convctl netcheck

  # The same through the office proxy, trusting the company's inspection CA
  convctl netcheck --proxy http://proxy.corp:3128 --ca-file corp-root.pem

  # What to ask IT to open, for the ticket
  convctl netcheck --allowlist --region ie1

  # Catch a flaky network: a round every 10s for ten minutes, JSON lines
  convctl netcheck --every 10s --count 60 -o json > netcheck.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Now = f.Now
			if err := opts.validate(cmd); err != nil {
				return err
			}
			var err error
			if opts.Net, err = nf.config(f, nil); err != nil {
				return err
			}
			if runF == nil {
				return runNetcheck(cmd.Context(), opts)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	nf.register(cmd)
	regionFlag(cmd, &opts.Region, defaultRegion, "Twilio `REGION` whose endpoints to check (Conversations runs in us1 and ie1)")
	fs.DurationVar(&opts.Timeout, "timeout", netcheck.DefaultTimeout, "bound each endpoint's check (they run at once)")
	outputFlag(cmd, &opts.Output)
	fs.BoolVar(&opts.Allowlist, "allowlist", false, "print what a firewall must allow for --region, for a ticket to IT, and check nothing")
	fs.DurationVar(&opts.Every, "every", 0, "repeat the check every `DURATION` until interrupted (or --count rounds), then summarise")
	fs.IntVar(&opts.Count, "count", 0, "with --every: stop after `N` rounds (0: when interrupted)")
	fs.BoolVar(&opts.Debug, "debug", false, "log every step (DNS, TCP, proxy, TLS, answers) to stderr; proxy passwords are never shown")
	return cmd
}

// validate checks the flags that need no I/O.
func (o *NetcheckOptions) validate(cmd *cobra.Command) error {
	switch {
	case o.Timeout <= 0:
		return usageErrorf("--timeout must be positive, got %v", o.Timeout)
	case o.Every < 0:
		return usageErrorf("--every must be positive, got %v", o.Every)
	case o.Count < 0:
		return usageErrorf("--count cannot be negative, got %d", o.Count)
	case cmd.Flags().Changed("count") && !cmd.Flags().Changed("every"):
		return usageErrorf("--count needs --every: it counts the rounds --every repeats")
	case cmd.Flags().Changed("every") && o.Every == 0:
		return usageErrorf("--every must be positive, got %v", o.Every)
	}
	if o.Allowlist {
		for _, other := range []string{"every", "count"} {
			if err := flagsConflict(cmd, "allowlist", other, "--allowlist checks nothing"); err != nil {
				return err
			}
		}
		if o.Output == "json" {
			return conflictError("allowlist", "output", "--allowlist prints text for a ticket")
		}
	}
	return nil
}

// runNetcheck prints the allowlist, or checks the endpoints once or every
// --every, renders what it found and picks the exit code.
func runNetcheck(ctx context.Context, opts *NetcheckOptions) error {
	io := opts.IO
	if opts.Allowlist {
		renderAllowlist(io.Out, opts.Region, netcheck.Endpoints(opts.Region))
		return nil
	}
	var logger *slog.Logger
	if opts.Debug {
		logger = debuglog.Component(debuglog.New(io.ErrOut, debuglog.Options{Level: slog.LevelDebug, Color: io.ErrColorEnabled(), Start: time.Now()}), "netcheck")
	}
	cfg := netcheck.Config{Region: opts.Region, Net: opts.Net, Timeout: opts.Timeout, Logger: logger, Now: opts.Now}
	if opts.tune != nil {
		opts.tune(&cfg)
	}
	prog := newNetcheckProgress(io, opts)
	cfg.Observe = prog.observe
	if cfg.Endpoints == nil {
		cfg.Endpoints = netcheck.Endpoints(cfg.Region)
	}
	chk, err := netcheck.New(cfg)
	if err != nil {
		return asUsage(err)
	}
	round := func(n int) *netcheck.Report {
		prog.begin(n, cfg.Endpoints)
		rep := chk.Run(ctx)
		prog.clear()
		if opts.stable != nil {
			opts.stable(rep)
		}
		return rep
	}
	if opts.Every == 0 {
		rep := round(0)
		if opts.Output == "json" {
			if err := writeJSON(io.Out, rep); err != nil {
				return err
			}
		} else {
			renderNetcheckText(io.Out, io.ColorScheme(), io.IsStdoutTTY(), rep)
		}
		switch {
		case ctx.Err() != nil:
			return cannotFinish(errors.New("interrupted before every endpoint was checked: the report shows those cut short as failed"))
		case !rep.OK:
			return errFailed // the report says what failed
		}
		return nil
	}
	return netcheckRounds(ctx, opts, round, prog)
}

// netcheckRounds is --every: a round, a line for it, a wait, until --count
// rounds or the context ends; then the summary. A round cut short by the
// end of the context is not counted: its failures are the interrupt's.
func netcheckRounds(ctx context.Context, opts *NetcheckOptions, round func(int) *netcheck.Report, prog *netcheckProgress) error {
	io := opts.IO
	after := opts.after
	if after == nil {
		after = time.After
	}
	sum := &netcheck.Summary{Endpoints: []*netcheck.EndpointSummary{}}
	failed := 0
	for n := 1; opts.Count == 0 || n <= opts.Count; n++ {
		t0 := time.Now()
		rep := round(n)
		if ctx.Err() != nil {
			break
		}
		sum.Add(rep)
		if !rep.OK {
			failed++
		}
		if opts.Output == "json" {
			if err := writeJSONLine(io.Out, rep); err != nil {
				return err
			}
		} else {
			renderNetcheckRound(io.Out, io.ColorScheme(), io.IsStdoutTTY(), n, rep)
		}
		if n == opts.Count {
			break
		}
		wait := max(opts.Every-time.Since(t0), 0)
		prog.waiting(n+1, opts.Now().Add(wait))
		select {
		case <-ctx.Done():
		case <-after(wait):
		}
		prog.clear()
		if ctx.Err() != nil {
			break
		}
	}
	if opts.Output == "json" {
		if err := writeJSONLine(io.Out, netcheckSummaryLine{Summary: sum}); err != nil {
			return err
		}
	} else {
		renderNetcheckSummary(io.Out, io.ColorScheme(), io.IsStdoutTTY(), sum, failed)
	}
	switch {
	case sum.Rounds == 0:
		return cannotFinish(errors.New("interrupted before the first round finished"))
	case failed > 0:
		return errFailed // the summary says which endpoint failed, how often
	}
	return nil
}

// netcheckSummaryLine is the last line of --every -o json.
type netcheckSummaryLine struct {
	Summary *netcheck.Summary `json:"summary"`
}
