//go:build !unix

package emulator

import "time"

func raiseFDLimit(uint64) error { return nil }

func fdLimit() uint64 { return 1 << 20 }

func processCPU() time.Duration { return 0 }
