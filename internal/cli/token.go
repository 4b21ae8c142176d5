package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/tokensource"
	"github.com/convctl/convctl/pkg/twilsock"
)

func newCmdToken(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token <command>",
		Short: "Inspect and mint Twilio Access Tokens",
		Long: `Inspect an Access Token the way Twilio judges it, naming the error Twilio
would answer and how to fix it; or mint a token as Twilio's helper libraries do.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newCmdTokenInspect(f, nil), newCmdTokenMint(f, nil))
	return cmd
}

// ---- token inspect -------------------------------------------------------

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

func newCmdTokenInspect(f *Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
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
Prefer --token-env, --token-file or -: a token given as an argument is visible
to every user of the machine (ps, /proc) and stays in the shell's history.

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
			switch opts.Output {
			case "text", "json":
			default:
				return usageErrorf("--output must be text or json, not %s", safeFlagValue(opts.Output))
			}
			p, ok := inspect.ParseProduct(product)
			if !ok {
				return usageErrorf("--product must be one of %s, not %s", productList(), safeFlagValue(product))
			}
			opts.Product = p
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
				if arg == "" && !tokenSourceGiven(&tokens) && !f.IO.IsStdinTTY() {
					arg = "-" // something is piped in: that is the token
				}
				src, err := tokens.source(f, arg)
				if err != nil {
					return err
				}
				opts.Source = src
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runInspect(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "text", "report `FORMAT`: text or json")
	fl.StringVar(&product, "product", string(inspect.ProductConversations), "judge for this `PRODUCT`'s grant: "+productList())
	fl.StringVar(&at, "at", "", "judge the token as of `TIME` (RFC 3339 or unix seconds; default now)")
	fl.DurationVar(&opts.MinRemaining, "min-remaining", 0, "error expires_soon when less than `DURATION` is left")
	fl.BoolVar(&opts.Batch, "batch", false, "read tokens one a line from stdin (or --token-file), write one JSON report a line")
	tokens.register(fl)
	secrets.register(fl, "to verify the signature")
	return cmd
}

// tokenSourceGiven reports whether any token source flag was given.
func tokenSourceGiven(t *tokenFlags) bool {
	return t.file != "" || t.env != "" || t.cmd != "" || t.url != ""
}

func productList() string {
	var names []string
	for _, p := range inspect.Products() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
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
		if err := writeReportJSON(opts.IO.Out, r, "  "); err != nil {
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

// writeReportJSON writes the contract's JSON object. No HTML escaping: hints
// say "Console > Conversations", not "Console \u003e Conversations".
func writeReportJSON(w io.Writer, r *inspect.Report, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	return enc.Encode(r)
}

// ---- text report ---------------------------------------------------------

func renderReport(w io.Writer, cs *ColorScheme, tty bool, r *inspect.Report, opts *InspectOptions) {
	now := r.JudgedAt
	var b strings.Builder

	// The verdict first: what a person came for.
	errs, warns := 0, 0
	for _, f := range r.Findings {
		if f.Severity == inspect.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	mark := func(ok, bad string) string {
		if tty {
			return ok
		}
		return bad
	}
	switch {
	case !r.Valid:
		first := r.FirstError()
		verdict := cs.Red(mark("✗ INVALID", "INVALID"))
		if first.TwilioError != nil {
			verdict += fmt.Sprintf(": Twilio would answer %d %s", *first.TwilioError, twilsock.Describe(*first.TwilioError))
		} else {
			verdict += ": " + first.Message + " (Twilio itself would accept it)"
		}
		b.WriteString(verdict + "\n")
	case warns > 0:
		b.WriteString(cs.Yellow(mark("✓ valid", "valid")) + fmt.Sprintf(", with %s\n", plural(warns, "warning")))
	default:
		b.WriteString(cs.Green(mark("✓ valid", "valid")) + "\n")
	}

	label := func(name string) string { return "  " + cs.Dim(fmt.Sprintf("%-17s", name)) }
	line := func(name, value string) { b.WriteString(label(name) + value + "\n") }
	dash := cs.Dim("—")
	orDash := func(s string) string {
		if s == "" {
			return dash
		}
		return safeText(s)
	}

	line("signature", signatureText(cs, r, len(opts.Secret) > 0))
	line("identity", orDash(r.Identity))
	line("account (sub)", orDash(r.AccountSID))
	line("api key (iss)", orDash(r.APIKeySID))
	grants := dash
	if len(r.Grants) > 0 {
		grants = safeText(strings.Join(r.Grants, ", "))
	}
	line("grants", grants)
	if r.Region != "" {
		line("region (twr)", safeText(r.Region))
	}
	line("issued", timeText(cs, r.IssuedAt, now))
	if r.NotBefore != nil {
		line("not before", timeText(cs, r.NotBefore, now))
	}
	line("expires", timeText(cs, r.ExpiresAt, now))
	if r.LifetimeSeconds != nil {
		line("lifetime", durText(time.Duration(*r.LifetimeSeconds)*time.Second))
	}
	if r.AboutToExpireAt != nil {
		line("about to expire", timeText(cs, r.AboutToExpireAt, now))
	}
	judged := "as of " + absTime(now) + " for " + string(opts.Product)
	if opts.At.IsZero() {
		judged = "now (" + absTime(now) + ") for " + string(opts.Product)
	}
	if opts.MinRemaining > 0 {
		judged += ", needing " + durText(opts.MinRemaining) + " left"
	}
	line("judged", judged)

	if len(r.Findings) > 0 {
		b.WriteString("\n")
		for _, f := range r.Findings {
			sev := fmt.Sprintf("%-7s", f.Severity)
			if f.Severity == inspect.SeverityError {
				sev = cs.Red(sev)
			} else {
				sev = cs.Yellow(sev)
			}
			code := f.Code
			if f.TwilioError != nil {
				code += fmt.Sprintf(" (%d)", *f.TwilioError)
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", sev, cs.Bold(code), f.Message)
			fmt.Fprintf(&b, "  %-7s %s\n", "", cs.Dim("fix: "+f.Hint))
		}
	}
	io.WriteString(w, b.String())
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func signatureText(cs *ColorScheme, r *inspect.Report, secretGiven bool) string {
	switch {
	case r.Signature == inspect.SignatureVerified:
		return cs.Green("verified") + " with the secret given (" + r.Algorithm + ")"
	case r.Signature == inspect.SignatureInvalid:
		return cs.Red("INVALID") + ": it does not match the secret given"
	case !secretGiven:
		return cs.Yellow("NOT verified") + " (no secret given: pass --secret-env or --secret-file)"
	case r.Header == nil:
		return cs.Yellow("NOT verified") + " (the token could not be decoded)"
	default:
		return cs.Yellow("NOT verified") + " (alg " + safeText(strconv.Quote(r.Algorithm)) + " is not HMAC)"
	}
}

func absTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func timeText(cs *ColorScheme, t *time.Time, now time.Time) string {
	if t == nil {
		return cs.Dim("—")
	}
	return absTime(*t) + " " + cs.Dim("("+relTime(t.Sub(now))+")")
}

// relTime says how far a time is from the judging moment: "in 59m", "3m ago".
func relTime(d time.Duration) string {
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + shortDur(d)
	default:
		return shortDur(-d) + " ago"
	}
}

// shortDur keeps the two largest units: 45s, 3m, 3m20s, 2h5m, 41d16h.
func shortDur(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		m, s := int64(d/time.Minute), int64(d%time.Minute/time.Second)
		if s == 0 {
			return fmt.Sprintf("%dm", m)
		}
		return fmt.Sprintf("%dm%ds", m, s)
	case d < 48*time.Hour:
		h, m := int64(d/time.Hour), int64(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		days, h := int64(d/(24*time.Hour)), int64(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}

func durText(d time.Duration) string {
	if d < 0 {
		return "-" + shortDur(-d)
	}
	return shortDur(d)
}

// safeText shows a value from the token as is when it is printable and
// short, quoted with escapes otherwise: a token must not be able to move the
// cursor or recolor the terminal.
func safeText(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) > max {
		cut := 0
		for i := range s {
			if cut == max {
				s = s[:i] + "…"
				break
			}
			cut++
		}
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// ---- --batch -------------------------------------------------------------

// batchChunk is a run of input lines judged by one worker and written in order.
type batchChunk struct {
	lines []batchLine
	out   []byte
	done  chan struct{}
}

type batchLine struct {
	n       int // 1-based input line number
	token   string
	tooLong int // bytes in a line over tokensource.MaxSize, judged without being kept
}

const batchChunkMax = 256

// runInspectBatch judges tokens one a line on every core. A reader cuts the
// input into chunks (flushing early whenever the input has nothing more
// buffered, so a slow producer still sees answers promptly), workers judge
// and encode whole chunks, and the writer emits chunks in input order.
func runInspectBatch(ctx context.Context, opts *InspectOptions) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	in := opts.inspector()
	// Chunks' encoded output is recycled once written: at a kilobyte a
	// report, fresh buffers would make the garbage collector the bottleneck.
	outBufs := sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	work := make(chan *batchChunk, workers)
	ordered := make(chan *batchChunk, 2*workers)
	var invalid, total atomic.Int64

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []byte
			for c := range work {
				out := (*outBufs.Get().(*[]byte))[:0]
				for _, l := range c.lines {
					r := in.Inspect(l.token)
					if l.tooLong > 0 {
						r = tooLongReport(r, l.tooLong)
					}
					if !r.Valid {
						invalid.Add(1)
					}
					// {"line":N, then the report's fields.
					out = append(out, `{"line":`...)
					out = strconv.AppendInt(out, int64(l.n), 10)
					out = append(out, ',')
					scratch = r.AppendJSON(scratch[:0])
					out = append(out, scratch[1:]...)
					out = append(out, '\n')
				}
				c.out = out
				close(c.done)
			}
		}()
	}

	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		readErr <- readBatch(ctx, opts.BatchIn, func(c *batchChunk) bool {
			total.Add(int64(len(c.lines)))
			select {
			case ordered <- c:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- c:
				return true
			case <-ctx.Done():
				close(c.done)
				return false
			}
		})
	}()

	w := bufio.NewWriterSize(opts.IO.Out, 64<<10)
	for c := range ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			// Interrupted. The reader may be blocked reading a terminal or a
			// pipe that nothing can unblock; the process is about to exit.
			w.Flush()
			return cannotFinish(context.Cause(ctx))
		}
		_, err := w.Write(c.out)
		outBufs.Put(&c.out)
		if err == nil && len(ordered) == 0 {
			err = w.Flush() // nothing else ready: let the reader see it now
		}
		if err != nil { // e.g. the reading end of a pipe closed
			return cannotFinish(fmt.Errorf("writing reports: %w", err))
		}
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		return cannotFinish(fmt.Errorf("writing reports: %w", err))
	}
	rerr := <-readErr
	switch {
	case rerr != nil:
		return rerr
	case ctx.Err() != nil:
		return cannotFinish(ctx.Err())
	case total.Load() == 0:
		return usageErrorf("no tokens in the input: --batch reads one token a line")
	case invalid.Load() > 0:
		return errFailed
	}
	return nil
}

// readBatch reads lines and hands them to emit in chunks. Blank lines are
// skipped (their numbers still count); each line is cleaned as every token
// source cleans (whitespace, a Bearer prefix).
func readBatch(ctx context.Context, r io.Reader, emit func(*batchChunk) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	chunk := &batchChunk{done: make(chan struct{})}
	flush := func() bool {
		if len(chunk.lines) == 0 {
			return true
		}
		c := chunk
		chunk = &batchChunk{done: make(chan struct{})}
		return emit(c)
	}
	var long []byte
	skipped := 0 // bytes of a line over the limit, dropped as read
	for n := 1; ; {
		if ctx.Err() != nil {
			return nil
		}
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			switch {
			case skipped > 0:
				skipped += len(frag)
			case len(long)+len(frag) > tokensource.MaxSize:
				skipped = len(long) + len(frag)
				long = nil
			default:
				long = append(long, frag...)
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			flush()
			return asUsage(fmt.Errorf("reading tokens: %w", err))
		}
		line := frag
		if long != nil {
			line = append(long, frag...)
			long = nil
		}
		if skipped > 0 || len(line) > tokensource.MaxSize {
			// Not a token: judged as a malformed line, and the batch goes on.
			chunk.lines = append(chunk.lines, batchLine{n: n, tooLong: skipped + len(bytes.TrimRight(line, "\r\n"))})
			skipped = 0
			n++
		} else if len(line) > 0 {
			if tok := tokensource.Clean(string(line)); tok != "" {
				chunk.lines = append(chunk.lines, batchLine{n: n, token: tok})
			}
			n++
		}
		if err != nil { // EOF
			flush()
			return nil
		}
		if len(chunk.lines) >= batchChunkMax || br.Buffered() == 0 {
			if !flush() {
				return nil
			}
		}
	}
}

// tooLongReport is the report for a line over tokensource.MaxSize: r (the
// report of an empty token) with its finding saying what the line was.
func tooLongReport(r *inspect.Report, size int) *inspect.Report {
	r.Findings = r.Findings[:1]
	r.Findings[0].Message = "line is " + strconv.Itoa(size) + " bytes, over the " + strconv.Itoa(tokensource.MaxSize) + "-byte limit: not a token (an Access Token is well under 8 KiB)"
	r.Findings[0].Hint = "put one token a line; a line this long is another file or a token joined with others"
	return r
}

// ---- token mint ----------------------------------------------------------

// MintOptions is everything `convctl token mint` was told.
type MintOptions struct {
	IO  *IOStreams
	Now func() time.Time

	Mint     inspect.MintOptions
	IssuedAt time.Time // zero: now
}

func newCmdTokenMint(f *Factory, runF func(context.Context, *MintOptions) error) *cobra.Command {
	opts := &MintOptions{IO: f.IO, Now: f.Now}
	var (
		secrets  secretFlags
		nbf, iat string
		alg      string
	)
	m := &opts.Mint
	cmd := &cobra.Command{
		Use:   "mint",
		Short: "Mint an Access Token as Twilio's helper libraries do",
		Long: `Mint an Access Token exactly as Twilio's helper libraries write it (same header,
claims and JSON, byte for byte), signed with an API Key secret, and print it
with a newline. It verifies with any standard JWT library and inspects as valid.

Give at least one grant: --chat-service-sid for Conversations, --sync-service-sid,
--voice-app-sid and/or --voice-incoming, --video-room or --video. The secret
comes from --secret-env or --secret-file, never from a flag value.`,
		Example: `  # A Conversations token for alice, valid for an hour
  convctl token mint --account-sid "$TWILIO_ACCOUNT_SID" --api-key "$TWILIO_API_KEY" \
    --secret-env TWILIO_API_SECRET --identity alice --chat-service-sid "$CHAT_SERVICE_SID"

  # Ten minutes, for the ie1 region, with Sync and Video too
  convctl token mint --account-sid "$TWILIO_ACCOUNT_SID" --api-key "$TWILIO_API_KEY" \
    --secret-file secret.txt --identity bob --chat-service-sid "$CHAT_SERVICE_SID" \
    --sync-service-sid "$SYNC_SERVICE_SID" --video --ttl 10m --region ie1

  # A token that expired an hour ago, to see how a client copes
  convctl token mint --account-sid "$TWILIO_ACCOUNT_SID" --api-key "$TWILIO_API_KEY" \
    --secret-env TWILIO_API_SECRET --identity alice --chat-service-sid "$CHAT_SERVICE_SID" \
    --issued-at 2026-11-25T09:00:00Z`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var missing []string
			for _, req := range []struct{ name, val string }{{"--account-sid", m.AccountSID}, {"--api-key", m.APIKeySID}, {"--identity", m.Identity}} {
				if req.val == "" {
					missing = append(missing, req.name)
				}
			}
			if !secrets.given() {
				missing = append(missing, "--secret-env or --secret-file")
			}
			if len(missing) > 0 {
				return usageErrorf("missing %s\nRun '%s --help' for usage.", strings.Join(missing, ", "), cmd.CommandPath())
			}
			if m.TTL < 0 {
				return usageErrorf("--ttl must be positive, got %s", m.TTL)
			}
			if m.TTL == 0 {
				return usageErrorf("--ttl must be positive (it defaults to 1h)")
			}
			if iat != "" {
				t, err := parseTimeFlag(iat)
				if err != nil {
					return usageErrorf("--issued-at %s: %v", safeFlagValue(iat), err)
				}
				opts.IssuedAt = t
			}
			if nbf != "" {
				t, err := parseTimeFlag(nbf)
				if err != nil {
					return usageErrorf("--nbf %s: %v", safeFlagValue(nbf), err)
				}
				m.NotBefore = t
			}
			m.Algorithm = alg
			secret, err := secrets.read(f)
			if err != nil {
				return err
			}
			m.Secret = secret
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runMint(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&m.AccountSID, "account-sid", "", "your Account `SID` (AC…): the token's sub")
	fl.StringVar(&m.APIKeySID, "api-key", "", "the API Key `SID` (SK…) whose secret signs the token: its iss")
	secrets.register(fl, "to sign with")
	fl.StringVar(&m.Identity, "identity", "", "the user's identity (required): the `NAME` Conversations shows")
	fl.StringVar(&m.ChatServiceSID, "chat-service-sid", "", "grant Conversations on this Conversations Service `SID` (IS…)")
	fl.StringVar(&m.SyncServiceSID, "sync-service-sid", "", "grant Sync on this Sync Service `SID` (IS…)")
	fl.StringVar(&m.VoiceAppSID, "voice-app-sid", "", "grant Voice outgoing calls through this TwiML App `SID` (AP…)")
	fl.BoolVar(&m.VoiceIncomingAllow, "voice-incoming", false, "grant Voice incoming calls")
	fl.StringVar(&m.VideoRoom, "video-room", "", "grant Video for this `ROOM`")
	fl.BoolVar(&m.Video, "video", false, "grant Video for any room")
	fl.DurationVar(&m.TTL, "ttl", inspect.DefaultTTL, "how long the token lives (`DURATION`, at most 24h)")
	fl.StringVar(&nbf, "nbf", "", "not valid before `TIME` (RFC 3339 or unix seconds)")
	fl.StringVar(&m.Region, "region", "", "Twilio `REGION` for the header's twr, e.g. ie1")
	fl.StringVar(&alg, "alg", "HS256", "sign with `ALG`: HS256 (what Twilio documents), HS384 or HS512")
	fl.StringVar(&iat, "issued-at", "", "mint as if now were `TIME` (RFC 3339 or unix seconds), e.g. to make an expired token")
	return cmd
}

func runMint(ctx context.Context, opts *MintOptions) error {
	o := opts.Mint
	now := opts.Now()
	o.Now = now
	if !opts.IssuedAt.IsZero() {
		o.Now = opts.IssuedAt
	}
	tok, err := inspect.Mint(o)
	if err != nil {
		return asUsage(mintError(err))
	}
	if _, err := fmt.Fprintln(opts.IO.Out, tok); err != nil {
		return cannotFinish(err)
	}
	// Say on stderr what the token will meet, never on stdout, which holds
	// only the token.
	r := inspect.Inspect(tok, inspect.WithSecret(o.Secret), inspect.WithAt(now), inspect.WithProduct(inspect.ProductAny))
	cs := opts.IO.ErrColorScheme()
	for _, f := range r.Findings {
		label := cs.Yellow("warning:")
		if f.Severity == inspect.SeverityError {
			label = cs.Yellow("note:") // minted on purpose (--issued-at); still worth saying
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", label, f.Message)
	}
	return nil
}

// mintError lists every problem Mint named, one a line, without the
// package's sentinel prefix.
func mintError(err error) error {
	var parts []string
	for _, line := range strings.Split(err.Error(), "\n") {
		parts = append(parts, strings.TrimPrefix(line, inspect.ErrMintOptions.Error()+": "))
	}
	if len(parts) == 1 {
		return fmt.Errorf("cannot mint: %s", parts[0])
	}
	return fmt.Errorf("cannot mint:\n  %s", strings.Join(parts, "\n  "))
}
