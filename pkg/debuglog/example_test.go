package debuglog_test

import (
	"log/slog"
	"os"
	"time"

	"github.com/convctl/convctl/pkg/debuglog"
)

func Example() {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	now := start.Add(1234 * time.Millisecond)
	log := debuglog.New(os.Stdout, debuglog.Options{
		Level: slog.LevelDebug,
		Start: start,
		Now:   func() time.Time { return now },
	})
	probe := debuglog.Component(log, "probe")
	probe.Debug("init sent", "token", debuglog.Token("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQzEyMyJ9.c2lnbmF0dXJl"), "secret", debuglog.Secret("hunter2"))
	// Output:
	// +1.234s DEBUG [probe] init sent token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQzEyMyJ9.<redacted> secret=[REDACTED]
}
