// Command pause is the pod sandbox ("infra") container of the local cluster:
// containerd's CRI starts it first in every pod to hold the pod's namespaces.
// No image registry is reachable here, so the usual registry.k8s.io/pause (a
// small C program) cannot be pulled; this does the same job: block until
// SIGINT/SIGTERM, and reap zombies when it is PID 1 of a shared PID namespace.
// Built static (CGO_ENABLED=0) and packed FROM scratch by scripts/setup/kube.sh.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is what `pause -v` prints (set with -ldflags -X main.version=...).
var version = "lab"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Printf("pause.go version: %s\n", version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		switch s {
		case syscall.SIGCHLD:
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		default:
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", s)
			os.Exit(0)
		}
	}
}
