package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/spf13/cobra"
)

// ---- token mint ----------------------------------------------------------

// MintOptions is everything `convctl token mint` was told.
type MintOptions struct {
	IO  *IOStreams
	Now func() time.Time

	Mint     inspect.MintOptions
	IssuedAt time.Time // zero: now
}

// NewCmdTokenMint builds `convctl token mint`. runF runs the parsed options
// (nil: runMint).
func NewCmdTokenMint(f *Factory, runF func(context.Context, *MintOptions) error) *cobra.Command {
	if runF == nil {
		runF = runMint
	}
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
			if m.TTL <= 0 {
				return usageErrorf("--ttl must be positive (it defaults to 1h), got %s", m.TTL)
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
			return runF(cmd.Context(), opts)
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
	regionFlag(cmd, &m.Region, "", "Twilio `REGION` for the header's twr, e.g. ie1 (default: none)")
	enumFlag(cmd, &alg, "alg", "", "HS256", []string{"HS256", "HS384", "HS512"}, "signing algorithm (HS256 is what Twilio documents)")
	fl.StringVar(&iat, "issued-at", "", "mint as if now were `TIME` (RFC 3339 or unix seconds), e.g. to make an expired token")
	markQuick(cmd)
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
