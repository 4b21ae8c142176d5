//go:build !linux

package probe

// maxRSS is not measured off Linux.
func maxRSS() int64 { return 0 }
