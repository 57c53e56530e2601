package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"kcloud.dev/kcloud/internal/testenv"
)

func main() {
	kubeconfig := flag.String("write-kubeconfig", "kubeconfig", "where to write the admin kubeconfig")
	flag.Parse()
	srv, err := testenv.StartAPIServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
	if err := srv.WriteKubeconfig(*kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		_ = srv.Stop()
		os.Exit(1)
	}
	fmt.Println("ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver: stop:", err)
		os.Exit(1)
	}
}
