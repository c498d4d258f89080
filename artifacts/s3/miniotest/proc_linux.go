package miniotest

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill minio if the test binary dies without
// running its cleanups (a timeout panic, a kill), so no server is left behind.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
