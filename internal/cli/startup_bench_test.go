package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
)

// BenchmarkInspectCommand is the in-process part of `convctl token inspect
// --token-file F --secret-file K`: building the command tree, parsing flags,
// reading both files, judging and rendering. Process start is measured
// whole with hyperfine (see the issue 8 report).
func BenchmarkInspectCommand(b *testing.B) {
	dir := b.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef")
	tok, err := inspect.Mint(inspect.MintOptions{AccountSID: "AC0123456789abcdef0123456789abcdef", APIKeySID: "SK0123456789abcdef0123456789abcdef",
		Secret: secret, Identity: "alice", ChatServiceSID: "IS0123456789abcdef0123456789abcdef", TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	tf, kf := filepath.Join(dir, "t.jwt"), filepath.Join(dir, "k")
	if err := os.WriteFile(tf, []byte(tok), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(kf, secret, 0o600); err != nil {
		b.Fatal(err)
	}
	args := []string{"token", "inspect", "--token-file", tf, "--secret-file", kf}
	getenv := func(string) string { return "" }
	b.Run("tree", func(b *testing.B) {
		for b.Loop() {
			io, _, _, _ := TestIO()
			_ = NewCmdRoot(NewFactory(io, getenv))
		}
	})
	b.Run("run", func(b *testing.B) {
		for b.Loop() {
			io, _, _, _ := TestIO()
			io.SetStdinTTY(true)
			if code := Run(context.Background(), args, io, getenv); code != 0 {
				b.Fatalf("exit %d", code)
			}
		}
	})
}
