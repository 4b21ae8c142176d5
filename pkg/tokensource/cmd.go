package tokensource

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/debuglog"
)

// cmdWaitDelay bounds how long Fetch waits, once the context is done and sh
// has been killed, for grandchildren still holding the output pipes.
const cmdWaitDelay = 500 * time.Millisecond

// maxStderr is how much of the command's stderr a message may quote: enough
// to say why it failed, little enough that a chatty tool cannot spill much.
const maxStderr = 200

type cmdSource string

// Name does not include the command line, which may carry credentials.
func (cmdSource) Name() string { return "--token-cmd" }

func (c cmdSource) Fetch(ctx context.Context) (string, error) {
	if err := ctxErr(ctx, c.Name()); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", string(c))
	stdout := &cappedBuffer{max: MaxSize}
	stderr := &cappedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = cmdWaitDelay
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", inputErr(ctx.Err(), "--token-cmd did not finish: %v; make the command faster or allow more time", context.Cause(ctx))
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", inputErr(err, "--token-cmd could not run: %v", err)
		}
		msg := "--token-cmd failed (" + ee.ProcessState.String() + ")"
		if line := firstLine(stderr.String()); line != "" {
			msg += ": " + line
		}
		return "", inputErr(err, "%s; run the command by hand to see why", msg)
	}
	if stdout.overflow {
		return "", inputErr(nil, "--token-cmd printed more than %d bytes; make it print just the token", MaxSize)
	}
	tok := Clean(stdout.String())
	if tok == "" {
		msg := "--token-cmd printed nothing on stdout"
		if line := firstLine(stderr.String()); line != "" {
			msg += " (stderr: " + line + ")"
		}
		return "", inputErr(nil, "%s; make it print the token", msg)
	}
	return tok, nil
}

// firstLine returns the first non-blank line of s, tokens redacted, cut to
// maxStderr bytes on a rune boundary: stderr is quoted in messages, and a
// failing token tool may well echo what it was handling.
func firstLine(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		line = debuglog.RedactJWTs(line)
		if len(line) > maxStderr {
			cut := maxStderr
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = line[:cut] + "…"
		}
		return line
	}
	return ""
}

// cappedBuffer keeps the first max bytes written and drops the rest, while
// still accepting them, so a chatty child never blocks or sees EPIPE. It has
// no ReadFrom on purpose: io.Copy would use it and bypass the cap.
type cappedBuffer struct {
	buf      []byte
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	room := b.max - len(b.buf)
	if room < len(p) {
		b.overflow = true
		b.buf = append(b.buf, p[:max(room, 0)]...)
		return len(p), nil
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *cappedBuffer) String() string { return string(b.buf) }
