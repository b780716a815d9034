// Command crirm lists or removes every pod sandbox and container of a CRI
// runtime (the local cluster's containerd), through the CRI API, so that the
// runtime tears down each pod's network (CNI DEL: veth, IPAM lease), mounts and
// shim. scripts/setup/kube-stop.sh uses it after stopping the kubelet; there is
// no crictl on this machine.
//
//	crirm -endpoint unix:///run/multiarch-lab-kube/containerd.sock ls
//	crirm -endpoint unix:///run/multiarch-lab-kube/containerd.sock rm
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	endpoint := flag.String("endpoint", "unix:///run/multiarch-lab-kube/containerd.sock", "CRI endpoint")
	timeout := flag.Duration("timeout", 2*time.Minute, "overall timeout")
	flag.Parse()
	mode := flag.Arg(0)
	if mode != "ls" && mode != "rm" {
		fmt.Fprintln(os.Stderr, "usage: crirm [-endpoint unix://SOCK] ls|rm")
		os.Exit(2)
	}
	conn, err := grpc.NewClient(*endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rt := runtimeapi.NewRuntimeServiceClient(conn)

	pods, err := rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		fail(err)
	}
	ctrs, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		fail(err)
	}
	if mode == "ls" {
		for _, p := range pods.Items {
			fmt.Printf("sandbox   %.13s %-8s %s/%s\n", p.Id, short(p.State.String()), p.Metadata.Namespace, p.Metadata.Name)
		}
		for _, c := range ctrs.Containers {
			fmt.Printf("container %.13s %-8s %s (pod %.13s) %s\n", c.Id, short(c.State.String()), c.Metadata.Name, c.PodSandboxId, c.Image.GetImage())
		}
		fmt.Printf("%d sandboxes, %d containers\n", len(pods.Items), len(ctrs.Containers))
		return
	}
	failed := 0
	for _, p := range pods.Items {
		name := p.Metadata.Namespace + "/" + p.Metadata.Name
		if _, err := rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.Id}); err != nil {
			fmt.Fprintf(os.Stderr, "stop %s: %v\n", name, err)
			failed++
			continue
		}
		if _, err := rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
			fmt.Fprintf(os.Stderr, "remove %s: %v\n", name, err)
			failed++
		}
	}
	// Containers whose sandbox was already gone.
	left, err := rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		fail(err)
	}
	for _, c := range left.Containers {
		_, _ = rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id, Timeout: 0})
		if _, err := rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
			fmt.Fprintf(os.Stderr, "remove container %s: %v\n", c.Metadata.Name, err)
			failed++
		}
	}
	fmt.Printf("removed %d sandboxes, %d containers\n", len(pods.Items)-failed, len(ctrs.Containers))
	if failed > 0 {
		os.Exit(1)
	}
}

func short(s string) string {
	for _, p := range []string{"SANDBOX_", "CONTAINER_"} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "crirm:", err)
	os.Exit(1)
}
