package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// cell is one table cell: its text (what its width is measured on) and
// how to paint it (nil: as is). paint gets the text and may return
// something else of the same visible width (a mark).
type cell struct {
	text  string
	paint func(string) string
}

// table aligns cells in columns two spaces apart; the last column is not
// padded.
type table struct{ rows [][]cell }

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			s := c.text
			if c.paint != nil {
				s = c.paint(c.text)
			}
			b.WriteString(s)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)))
				if i == 0 {
					b.WriteString(" ")
				} else {
					b.WriteString("  ")
				}
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// markPlain is mark's text without color, for measuring.
func markPlain(tty, ok bool) string { return mark(newColorScheme(false), tty, ok, false) }

// markWidth is how wide a mark is: one rune on a terminal, a word on a pipe.
func markWidth(tty bool) int { return utf8.RuneCountInString(markPlain(tty, false)) }
