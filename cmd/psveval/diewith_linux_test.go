package main

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill cmd when the test process dies, so that
// a test run killed midway (a CI job cancelled, go test's own timeout)
// leaves no server behind, which t.Cleanup alone cannot promise.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
