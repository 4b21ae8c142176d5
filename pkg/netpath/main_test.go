package netpath

import (
	"testing"

	"go.uber.org/goleak"
)

// Dial races address families on goroutines; none may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
