package cli

import (
	"bytes"
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// IOStreams carries the program's in, out and err, and the decisions that
// depend on them: whether each is a terminal and whether to color. Commands
// never touch os.Stdin/os.Stdout/os.Stderr; they write here.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	noColor                        bool      // NO_COLOR set, or TERM=dumb
	color                          ColorMode // --color
}

// ColorMode is --color: auto colors a terminal unless NO_COLOR is set;
// always and never ignore the terminal and the environment.
type ColorMode int

const (
	ColorAuto ColorMode = iota
	ColorAlways
	ColorNever
)

// SystemIO returns streams over the process's own file descriptors.
func SystemIO(getenv func(string) string) *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	// https://no-color.org: any non-empty value disables color.
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		s.noColor = true
	}
	return s
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// TestIO returns streams over buffers, none a terminal.
func TestIO() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY pretends (in tests) that stdout and stderr are, or are not, terminals.
func (s *IOStreams) SetTTY(tty bool) { s.stdoutTTY, s.stderrTTY = tty, tty }

// SetStdinTTY pretends stdin is, or is not, a terminal.
func (s *IOStreams) SetStdinTTY(tty bool) { s.stdinTTY = tty }

// SetColor sets the --color mode.
func (s *IOStreams) SetColor(m ColorMode) { s.color = m }

// DisableColor turns color off whatever the terminals say (--no-color).
func (s *IOStreams) DisableColor() { s.color = ColorNever }

func (s *IOStreams) colorOn(tty bool) bool {
	switch s.color {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	return tty && !s.noColor
}

// IsStdoutTTY reports whether the report goes to a person's terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether logs and progress go to a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// IsStdinTTY reports whether stdin is a terminal (nothing piped in).
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// ColorEnabled reports whether stdout may carry color.
func (s *IOStreams) ColorEnabled() bool { return s.colorOn(s.stdoutTTY) }

// ErrColorEnabled reports whether stderr may carry color.
func (s *IOStreams) ErrColorEnabled() bool { return s.colorOn(s.stderrTTY) }

// ColorScheme returns the palette for stdout.
func (s *IOStreams) ColorScheme() *ColorScheme { return newColorScheme(s.ColorEnabled()) }

// ErrColorScheme returns the palette for stderr.
func (s *IOStreams) ErrColorScheme() *ColorScheme { return newColorScheme(s.ErrColorEnabled()) }

// ColorScheme paints strings, or leaves them alone when color is off. Each
// color.Color is set explicitly so the fatih/color global NoColor is never used.
type ColorScheme struct {
	enabled                                    bool
	red, yellow, green, cyan, bold, dim, magen *color.Color
}

func newColorScheme(enabled bool) *ColorScheme {
	mk := func(a ...color.Attribute) *color.Color {
		c := color.New(a...)
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return &ColorScheme{
		enabled: enabled,
		red:     mk(color.FgRed, color.Bold),
		yellow:  mk(color.FgYellow),
		green:   mk(color.FgGreen),
		cyan:    mk(color.FgCyan),
		bold:    mk(color.Bold),
		dim:     mk(color.Faint),
		magen:   mk(color.FgMagenta),
	}
}

func (c *ColorScheme) Enabled() bool           { return c.enabled }
func (c *ColorScheme) Red(s string) string     { return c.red.Sprint(s) }
func (c *ColorScheme) Yellow(s string) string  { return c.yellow.Sprint(s) }
func (c *ColorScheme) Green(s string) string   { return c.green.Sprint(s) }
func (c *ColorScheme) Cyan(s string) string    { return c.cyan.Sprint(s) }
func (c *ColorScheme) Bold(s string) string    { return c.bold.Sprint(s) }
func (c *ColorScheme) Dim(s string) string     { return c.dim.Sprint(s) }
func (c *ColorScheme) Magenta(s string) string { return c.magen.Sprint(s) }
