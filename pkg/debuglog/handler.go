package debuglog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Format selects the output form.
type Format int

const (
	FormatText Format = iota // human lines: +elapsed LEVEL [component] message key=value…
	FormatJSON               // one JSON object a line
)

// String returns "text" or "json", the names ParseFormat accepts.
func (f Format) String() string {
	switch f {
	case FormatText:
		return "text"
	case FormatJSON:
		return "json"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat maps a flag value ("text" or "json") to a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "text":
		return FormatText, nil
	case "json":
		return FormatJSON, nil
	}
	return 0, fmt.Errorf("unknown log format %q: use text or json", s)
}

// Options configures the handler.
type Options struct {
	Level  slog.Leveler     // minimum level; nil means Info
	Format Format           // text or JSON lines
	Color  bool             // ANSI color by level (the caller decides: terminal and no NO_COLOR)
	Start  time.Time        // timestamps are relative to this; zero means when the handler is made
	Now    func() time.Time // clock; nil means time.Now
}

// KeyComponent is the attribute key Component sets; the text handler shows it as a [tag].
const KeyComponent = "component"

// handler is the slog.Handler behind NewHandler. Derived handlers (WithAttrs,
// WithGroup) share the writer and its mutex, so lines never interleave.
type handler struct {
	w     io.Writer
	mu    *sync.Mutex
	level slog.Leveler
	form  Format
	color bool
	start time.Time
	now   func() time.Time // nil: use the record's own time

	component string   // the last top-level KeyComponent attribute
	groups    []string // open groups, outermost first
	// pre holds the attributes from WithAttrs, already formatted.
	// Text: " k=v g.k=v" pairs. JSON: the inside of the "attrs" object, with
	// opened groups still open (opened of them) and the groups after the last
	// attribute (groups[len(groups)-pending:]) not yet written, because a
	// group with no attributes must not appear at all.
	pre     []byte
	opened  int
	pending int
}

// NewHandler returns the project's slog handler writing to w. Each record is
// formatted without holding a lock and written with one Write call under a
// mutex shared by every handler derived from this one.
//
// Every string that reaches the output (message, attribute values, errors,
// formatted values) is passed through RedactJWTs, so a token logged by
// mistake as a plain string still loses its signature.
func NewHandler(w io.Writer, o Options) slog.Handler {
	h := &handler{
		w:     w,
		mu:    new(sync.Mutex),
		level: o.Level,
		form:  o.Format,
		color: o.Color && o.Format == FormatText,
		start: o.Start,
		now:   o.Now,
	}
	if h.level == nil {
		h.level = slog.LevelInfo
	}
	if h.start.IsZero() {
		if h.now != nil {
			h.start = h.now()
		} else {
			h.start = time.Now()
		}
	}
	return h
}

// New returns a logger over NewHandler.
func New(w io.Writer, o Options) *slog.Logger { return slog.New(NewHandler(w, o)) }

// Discard returns a logger that drops everything (for library callers that pass none).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Component returns l tagged with a component name ("probe", "emulator", "frame"…).
// Tagging an already tagged logger replaces the tag.
func Component(l *slog.Logger, name string) *slog.Logger { return l.With(KeyComponent, name) }

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := h.clone()
	h2.groups = append(h2.groups, name)
	h2.pending++
	return h2
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := h.clone()
	if len(h2.groups) == 0 {
		as = h2.takeComponent(as)
	}
	switch h2.form {
	case FormatJSON:
		w := jsonWriter{buf: h2.pre, pendingGroups: h2.groups[len(h2.groups)-h2.pending:]}
		for _, a := range as {
			w.attr(a)
		}
		h2.pre = w.buf
		if len(w.pendingGroups) < h2.pending {
			h2.opened += h2.pending - len(w.pendingGroups)
			h2.pending = len(w.pendingGroups)
		}
	default:
		tw := textWriter{buf: h2.pre}
		prefix := groupPrefix(h2.groups)
		for _, a := range as {
			tw.attr(prefix, a)
		}
		h2.pre = tw.buf
	}
	return h2
}

// takeComponent records the last component attribute among as and returns
// the others; as itself is not modified.
func (h *handler) takeComponent(as []slog.Attr) []slog.Attr {
	idx := slices.IndexFunc(as, func(a slog.Attr) bool { return a.Key == KeyComponent })
	if idx < 0 {
		return as
	}
	rest := make([]slog.Attr, 0, len(as)-1)
	for _, a := range as {
		if a.Key == KeyComponent {
			h.component = componentName(a.Value)
			continue
		}
		rest = append(rest, a)
	}
	return rest
}

func componentName(v slog.Value) string {
	return RedactJWTs(v.Resolve().String())
}

func (h *handler) clone() *handler {
	h2 := *h
	h2.groups = slices.Clip(h.groups)
	h2.pre = slices.Clip(h.pre)
	return &h2
}

func groupPrefix(groups []string) string {
	if len(groups) == 0 {
		return ""
	}
	return strings.Join(groups, ".") + "."
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	component := h.component
	var attrs []slog.Attr
	if r.NumAttrs() > 0 {
		attrs = make([]slog.Attr, 0, r.NumAttrs())
		r.Attrs(func(a slog.Attr) bool {
			if len(h.groups) == 0 && a.Key == KeyComponent {
				component = componentName(a.Value)
			} else {
				attrs = append(attrs, a)
			}
			return true
		})
	}
	hasTime := !r.Time.IsZero()
	var elapsed time.Duration
	if hasTime {
		t := r.Time
		if h.now != nil {
			t = h.now()
		}
		elapsed = t.Sub(h.start)
	}

	var buf []byte
	if h.form == FormatJSON {
		buf = h.appendJSON(make([]byte, 0, 256), hasTime, elapsed, r.Level, component, r.Message, attrs)
	} else {
		buf = h.appendText(make([]byte, 0, 256), hasTime, elapsed, r.Level, component, r.Message, attrs)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(buf)
	return err
}

func levelName(l slog.Level) string { return l.String() }
