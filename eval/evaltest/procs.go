package evaltest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// GroupAlive reports whether the process group pgid has a process that
// is not a zombie. A killed process stays visible to kill(2) until its
// parent reaps it, and an orphan's new parent may take its time; a zombie
// runs nothing. Where /proc cannot be read, it falls back to kill(2).
func GroupAlive(pgid int) bool {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return syscall.Kill(-pgid, 0) == nil
	}
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(fields[2]); err == nil && g == pgid {
			return true
		}
	}
	return false
}
