package inspect

import (
	"strconv"
	"time"
)

// human renders a duration for a message: "2m0s", "23h59m59s", and "41d16h"
// once it runs to days, where seconds stop mattering. The sign is dropped:
// messages say "ago" or "in" themselves.
func human(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Second)
	const day = 24 * time.Hour
	if d >= 2*day {
		days := int64(d / day)
		hours := int64((d % day) / time.Hour)
		return strconv.FormatInt(days, 10) + "d" + strconv.FormatInt(hours, 10) + "h"
	}
	return d.String()
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
