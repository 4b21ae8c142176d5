package emulator

func runChild() bool { return false }
