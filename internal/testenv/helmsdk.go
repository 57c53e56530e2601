package testenv

import (
	"context"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// HelmInstall installs chart c as release name in namespace (created if
// missing) with the Helm SDK's own install action, as the helm CLI and
// Terraform's helm provider do: the release's objects, and its record as a
// sh.helm.release.v1.<name>.v1 Secret (the secret storage driver).
// kubeconfig is a kubeconfig file of the test API server (or of a fault
// proxy in front of it). The install waits for hooks only
// (kube.HookOnlyStrategy): no controller here makes anything ready.
func HelmInstall(t testing.TB, kubeconfig, namespace, name string, c *chart.Chart, values map[string]any) {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig, flags.Namespace = &kubeconfig, &namespace
	cfg := action.NewConfiguration()
	if err := cfg.Init(flags, namespace, "secret"); err != nil {
		t.Fatalf("helm: %v", err)
	}
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace = name, namespace
	install.CreateNamespace = true
	install.ServerSideApply = true
	install.WaitStrategy = kube.HookOnlyStrategy
	if _, err := install.RunWithContext(context.Background(), c, values); err != nil {
		t.Fatalf("helm install %s: %v", name, err)
	}
}
