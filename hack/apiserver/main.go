package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	batchv1 "k8s.io/api/batch/v1"

	"kcloud.dev/kcloud/internal/testenv"
)

func main() {
	kubeconfig := flag.String("write-kubeconfig", "kubeconfig", "where to write the admin kubeconfig")
	platform := flag.Bool("platform", false, "serve what specs/ meets on a fresh K3s: K3s's CRDs only (cert-manager's come from its chart), "+
		"no webhook admission, and a stand-in Job controller in cert-manager for its chart's post-install hook Job")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, *kubeconfig, *platform); err != nil {
		fmt.Fprintln(os.Stderr, "apiserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig string, platform bool) (err error) {
	var opts []testenv.Option
	if platform {
		opts = append(opts, testenv.FreshK3s())
	}
	srv, err := testenv.StartAPIServer(opts...)
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.Stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stop: %w", stopErr)
		}
	}()
	if platform {
		// No kubelet, no Job controller here: cert-manager's startupapicheck
		// hook Job, which apply awaits, is ended as complete by a stand-in.
		stop, err := testenv.StartJobController(ctx, srv.Config(), "cert-manager", func(*batchv1.Job) testenv.ChartOutcome {
			return testenv.ChartOutcome{Log: "stand-in: the cert-manager API is ready\n"}
		}, func(err error) { fmt.Fprintln(os.Stderr, "apiserver: stand-in Job controller:", err) })
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := srv.WriteKubeconfig(kubeconfig); err != nil {
		return err
	}
	fmt.Println("ready")
	<-ctx.Done()
	return nil
}
