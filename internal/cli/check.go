package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/tokensource"
)

// CheckOptions is everything `convctl check` was told.
type CheckOptions struct {
	IO     *IOStreams
	Source tokensource.Source
	Secret []byte // nil: signatures are not verified, and the report says so

	Product      inspect.Product
	MinRemaining time.Duration

	URL   string // the Twilsock endpoint; empty with Local
	Local bool   // serve an emulator on 127.0.0.1 and connect to it

	Timeout     time.Duration // bounds the token fetch, and the connection part as a whole
	Hold        time.Duration
	UpdateToken bool

	Output  string         // text or json
	JUnit   string         // write a JUnit XML report here too ("" = no)
	Net     netpath.Config // the network flags
	Version string
	Now     func() time.Time

	// tune lets tests compress the SDK's timings (backoff, disconnect wait).
	tune func(*probe.Config)
}

// NewCmdCheck builds `convctl check`. runF runs the parsed options (nil:
// runCheck), so tests can check what the flags turn into without fetching
// or connecting anything.
func NewCmdCheck(f *Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCheck
	}
	opts := &CheckOptions{}
	var (
		tf      tokenFlags
		sf      secretFlags
		cf      connFlags
		nf      netFlags
		product string
	)
	cmd := &cobra.Command{
		Use:   "check [TOKEN|-]",
		Short: "Check a token source and a connection end to end, for CI",
		Long: `Run every check a CI pipeline needs in one command, each with a verdict:

  token.fetch    get a token from its source (typically your app's token
                 endpoint with --token-url, or --token-cmd)
  token.inspect  judge it as Twilio would (--product, --min-remaining; the
                 signature too with --secret-env or --secret-file)
  connect        open a Twilsock connection with it, as the SDK does
  token.update   with --update-token: fetch a fresh token, send update
  hold           with --hold: stay connected that long
  disconnect     close cleanly

A check that is not asked for, or cannot run because an earlier one failed,
is skipped. --local connects to a Twilsock server started inside convctl on
127.0.0.1, so a pipeline without Twilio access still checks its token
endpoint end to end; without a secret that server accepts any signature, and
the report says so. --timeout bounds the token fetch, and separately the
whole connection, reconnects and the hold included: with --hold and no
--timeout, the connection may take --hold plus 30s; a --timeout not longer
than --hold is refused. An interrupt (Ctrl-C, SIGTERM) during the hold ends
the hold early: the client disconnects cleanly and hold passes, saying so.

The token comes from the TOKEN argument, - (stdin), --token-file, --token-env,
--token-cmd or --token-url; with none of these and something piped in, from stdin.
Prefer --token-env, --token-file or -: an argument is visible to every user of
the machine (ps, /proc) and stays in the shell's history.

The connection goes the way connect's does (the network flags: proxy from
--proxy or the environment, --ca-file, --resolve, --connect-to, -4/-6), and
the report names the proxy and the TLS verdict (interception included).

The report goes to stdout (text, or one JSON object with -o json); --junit
also writes JUnit XML for GitHub Actions, GitLab or Jenkins to render. On a
terminal, progress goes to stderr.

Exit status: 0 when every check passed or was skipped; 1 when a check
failed; 2 on bad flags or a token that cannot be fetched (the --junit file
is still written, naming the failure); 3 when the connection could not be
made (unreachable, timeout, protocol error).`,
		Example: `  # Offline, no Twilio account: mint a token, check it against the built-in server
  export TWILIO_API_SECRET=0123456789abcdef0123456789abcdef
  convctl token mint --account-sid AC0123456789abcdef0123456789abcdef --api-key SK0123456789abcdef0123456789abcdef --secret-env TWILIO_API_SECRET --identity alice --chat-service-sid IS0123456789abcdef0123456789abcdef > token.jwt
  convctl check --local --secret-env TWILIO_API_SECRET --token-file token.jwt --hold 1s --junit convctl-check.xml

  # CI: your app's token endpoint, end to end against the built-in server
  convctl check --local --token-url "$TOKEN_URL" --update-token --junit convctl-check.xml

  # Against Twilio in ie1: signature checked, token good for at least 10 more minutes
  convctl check --region ie1 --token-url "$TOKEN_URL" --secret-env TWILIO_API_SECRET --min-remaining 10m -o json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Now = f.Now
			opts.Version = buildVersion()
			opts.Product = inspect.Product(product)
			if err := opts.validate(cmd, &cf); err != nil {
				return err
			}
			var err error
			if opts.Net, err = nf.config(f, nil); err != nil {
				return err
			}
			src, err := tf.source(f, firstArg(args))
			if err != nil {
				return opts.failEarly(checkTokenFetch, err)
			}
			opts.Source = src
			if opts.Secret, err = sf.read(f); err != nil {
				return opts.failEarly(checkTokenInspect, err)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	tf.register(fs)
	sf.register(fs, "for verifying signatures (also in --local's server)")
	productFlag(cmd, &product, "the product whose grant the token must carry")
	fs.DurationVar(&opts.MinRemaining, "min-remaining", 0, "fail token.inspect when less than this is left before the token expires")
	cf.register(cmd, "bound the token fetch, and the whole connection (reconnects included)")
	nf.register(cmd)
	fs.BoolVar(&opts.Local, "local", false, "connect to a Twilsock server convctl runs on 127.0.0.1 instead of Twilio")
	outputFlag(cmd, &opts.Output)
	fs.StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to `FILE`")
	return cmd
}

// validate checks every flag that needs no I/O, and settles the URL.
func (o *CheckOptions) validate(cmd *cobra.Command, cf *connFlags) error {
	if err := flagsConflict(cmd, "local", "url", "--local connects to convctl's own server"); err != nil {
		return err
	}
	if err := flagsConflict(cmd, "local", "region", "--local connects to convctl's own server"); err != nil {
		return err
	}
	var err error
	if !o.Local {
		if o.URL, err = cf.target(cmd); err != nil {
			return err
		}
	}
	if o.Timeout, err = cf.runTimeout(cmd); err != nil {
		return err
	}
	o.Hold, o.UpdateToken = cf.hold, cf.updateToken
	if o.MinRemaining < 0 {
		return usageErrorf("--min-remaining cannot be negative, got %v", o.MinRemaining)
	}
	if o.JUnit != "" {
		dir := filepath.Dir(o.JUnit)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageErrorf("--junit %s: directory %s does not exist", safeFlagText(o.JUnit), safeFlagText(dir))
		}
	}
	return nil
}

// failEarly is an input error found before anything ran: it still writes
// the JUnit report, so a pipeline shows which check could not start and
// why, then exits 2 with the message on stderr.
func (o *CheckOptions) failEarly(name string, err error) error {
	rep := newCheckReport(o)
	msg := err.Error()
	rep.get(name).fail(0, exitUsage, msg, &probe.Cause{Kind: causeInput, Message: msg})
	rep.skipRest("not run: " + name + " could not start")
	if werr := writeCheckJUnit(o.JUnit, rep); werr != nil {
		return asUsage(errors.Join(err, werr))
	}
	return asUsage(err)
}

// runCheck runs the checks in order, renders the report and picks the exit code.
func runCheck(ctx context.Context, opts *CheckOptions) error {
	rep := newCheckReport(opts)
	prog := newCheckProgress(opts.IO)
	defer prog.clear()

	tok, err := checkFetch(ctx, opts, rep, prog)
	if err != nil {
		prog.clear()
		if werr := writeCheckJUnit(opts.JUnit, rep); werr != nil {
			err = errors.Join(err, werr)
		}
		if ctx.Err() != nil {
			return cannotFinish(fmt.Errorf("interrupted: %w", err))
		}
		if c := rep.get(checkTokenFetch); c.Cause != nil && c.Cause.Hint != "" {
			err = fmt.Errorf("%w\nhint: %s", err, c.Cause.Hint)
		}
		return asUsage(err)
	}
	if checkInspect(opts, rep, tok, prog) {
		if err := checkConnection(ctx, opts, rep, tok, prog); err != nil {
			prog.clear()
			return err
		}
	}
	prog.clear()

	rep.OK = rep.exitCode() == exitOK
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		renderCheckText(opts.IO.Out, opts.IO.ColorScheme(), opts.IO.IsStdoutTTY(), rep)
	}
	if err := writeCheckJUnit(opts.JUnit, rep); err != nil {
		return asUsage(err)
	}
	return silentExit(rep.exitCode())
}
