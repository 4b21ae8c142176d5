package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDocsInSync fails when docs/commands or docs/man no longer match the
// command tree. Fix: go run ./cmd/gen-docs --dir docs
func TestDocsInSync(t *testing.T) {
	root := newRoot()
	tmp := t.TempDir()
	if err := writeDocs(root, tmp); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"commands", "man"} {
		want := readTree(t, filepath.Join(tmp, sub))
		got := readTree(t, filepath.Join("..", "..", "docs", sub))
		for name, w := range want {
			g, ok := got[name]
			switch {
			case !ok:
				t.Errorf("docs/%s/%s is missing; run: go run ./cmd/gen-docs --dir docs", sub, name)
			case !bytes.Equal(g, w):
				t.Errorf("docs/%s/%s is out of date; run: go run ./cmd/gen-docs --dir docs", sub, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("docs/%s/%s documents a command that no longer exists; delete it", sub, name)
			}
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}
