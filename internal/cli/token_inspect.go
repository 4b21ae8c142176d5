package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/tokensource"
	"github.com/spf13/cobra"
)

// InspectOptions is everything `convctl token inspect` was told.
type InspectOptions struct {
	IO  *IOStreams
	Now func() time.Time

	Source  tokensource.Source // one token (not with Batch)
	Batch   bool
	BatchIn io.Reader // with Batch: tokens, one a line

	Secret       []byte // nil: signature unchecked
	Output       string // text or json
	Product      inspect.Product
	At           time.Time // zero: now
	MinRemaining time.Duration
	Workers      int // with Batch; 0: every core
}

// NewCmdTokenInspect builds `convctl token inspect`. runF runs the parsed
// options (nil: runInspect).
func NewCmdTokenInspect(f *Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	if runF == nil {
		runF = runInspect
	}
	opts := &InspectOptions{IO: f.IO, Now: f.Now}
	var (
		tokens  tokenFlags
		secrets secretFlags
		product string
		at      string
	)
	cmd := &cobra.Command{
		Use:   "inspect [TOKEN | -]",
		Short: "Judge an Access Token as Twilio would, and say how to fix it",
		Long: `Decode an Access Token and judge it against every rule Twilio applies: header
(alg, typ, cty), issuer and subject SIDs, signature, expiry, lifetime, identity
and the grant the product needs. Every problem is listed, not just the first,
with the Twilio error code the service would answer and a hint naming the fix.

The signature is verified only when the API Key secret is given with
--secret-env or --secret-file; otherwise the report says plainly that it was not.

The token comes from the TOKEN argument, - (stdin), --token-file, --token-env,
--token-cmd or --token-url; with none of these and something piped in, from stdin.
Prefer --token-env, --token-file or -: an argument is visible to every user of
the machine (ps, /proc) and stays in the shell's history.

With --batch, tokens are read one a line from stdin (or --token-file) and one
JSON report a line is written, in input order, judged on every core.

Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage or input error.`,
		Example: `  # Why was my token rejected? Verify the signature too
  convctl token inspect --secret-env TWILIO_API_SECRET --token-env TOKEN

  # Will it still have 10 minutes left at noon (UTC)?
  convctl token inspect --at 2026-11-25T12:00:00Z --min-remaining 10m --token-file token.jwt

  # Judge it for a Sync client, as JSON for a script
  convctl token inspect --product sync -o json - < token.jwt

  # Straight from your token endpoint, as the app fetches it
  convctl token inspect --token-url "$TOKEN_URL" --token-field token

  # Many tokens, one a line: one JSON report a line out, exit 1 if any is invalid
  convctl token inspect --batch --secret-env TWILIO_API_SECRET < tokens.txt

  # Mint and inspect in one go
  convctl token mint --account-sid "$TWILIO_ACCOUNT_SID" --api-key "$TWILIO_API_KEY" \
    --secret-env TWILIO_API_SECRET --identity alice --chat-service-sid "$CHAT_SERVICE_SID" |
    convctl token inspect --secret-env TWILIO_API_SECRET`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			opts.Product = inspect.Product(product)
			if at != "" {
				t, err := parseTimeFlag(at)
				if err != nil {
					return usageErrorf("--at %s: %v", safeFlagValue(at), err)
				}
				opts.At = t
			}
			if opts.MinRemaining < 0 {
				return usageErrorf("--min-remaining must not be negative, got %s", opts.MinRemaining)
			}
			secret, err := secrets.read(f)
			if err != nil {
				return err
			}
			opts.Secret = secret

			if opts.Batch {
				if opts.Output == "text" && cmd.Flags().Changed("output") {
					return usageErrorf("--batch writes JSON lines; -o text does not apply")
				}
				switch {
				case tokens.env != "" || tokens.cmd != "" || tokens.url != "" || tokens.field != "":
					return usageErrorf("--batch reads tokens one a line from stdin or --token-file, not from --token-env, --token-cmd or --token-url")
				case arg != "" && arg != "-":
					return usageErrorf("--batch reads tokens from stdin or --token-file, not from the TOKEN argument")
				case arg == "-" && tokens.file != "":
					return usageErrorf("- and --token-file both given; pick one")
				case tokens.file != "":
					file, err := os.Open(tokens.file)
					if err != nil {
						return usageErrorf("--token-file %s: %v", safeFlagText(tokens.file), errors.Unwrap(err))
					}
					defer file.Close()
					opts.BatchIn = file
				default:
					if f.IO.IsStdinTTY() {
						fmt.Fprintln(f.IO.ErrOut, "reading tokens from the terminal, one a line; end with Ctrl-D")
					}
					opts.BatchIn = f.IO.In
				}
			} else {
				src, err := tokens.source(f, arg)
				if err != nil {
					return err
				}
				opts.Source = src
			}
			return runF(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	outputFlag(cmd, &opts.Output)
	productFlag(cmd, &product, "judge for this product's grant")
	fl.StringVar(&at, "at", "", "judge the token as of `TIME` (RFC 3339 or unix seconds; default now)")
	fl.DurationVar(&opts.MinRemaining, "min-remaining", 0, "error expires_soon when less than `DURATION` is left")
	fl.BoolVar(&opts.Batch, "batch", false, "read tokens one a line from stdin (or --token-file), write one JSON report a line")
	tokens.register(fl)
	secrets.register(fl, "to verify the signature")
	markQuick(cmd)
	return cmd
}

// parseTimeFlag reads a point in time as RFC 3339 or unix seconds.
func parseTimeFlag(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < -62135596800 || n > 253402300799 {
			return time.Time{}, errors.New("unix seconds out of range")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("want RFC 3339 (2026-11-25T10:00:00Z) or unix seconds (1795600800)")
}

func (o *InspectOptions) inspector() *inspect.Inspector {
	clock := o.Now
	if !o.At.IsZero() {
		at := o.At
		clock = func() time.Time { return at }
	}
	opts := []inspect.Option{inspect.WithClock(clock), inspect.WithProduct(o.Product), inspect.WithMinRemaining(o.MinRemaining)}
	if len(o.Secret) > 0 {
		opts = append(opts, inspect.WithSecret(o.Secret))
	}
	return inspect.NewInspector(opts...)
}

func runInspect(ctx context.Context, opts *InspectOptions) error {
	if opts.Batch {
		return runInspectBatch(ctx, opts)
	}
	tok, err := opts.Source.Fetch(ctx)
	if err != nil {
		return err
	}
	r := opts.inspector().Inspect(tok)
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, r); err != nil {
			return err
		}
	} else {
		renderReport(opts.IO.Out, opts.IO.ColorScheme(), opts.IO.IsStdoutTTY(), r, opts)
	}
	if !r.Valid {
		return errFailed
	}
	return nil
}
