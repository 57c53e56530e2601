package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ChartOutcome says how the stand-in Helm controller ends a chart's install
// Job: Log is the install pod's log; Fail fails the Job.
type ChartOutcome struct {
	Fail bool
	Log  string
}

var helmCharts = schema.GroupVersionResource{Group: "helm.cattle.io", Version: "v1", Resource: "helmcharts"}

// HelmController plays K3s's Helm controller, which cannot run here (its
// install Jobs need a kubelet and a registry): for every HelmChart that
// appears it creates the install Job the real controller would
// (helm-install-<name> in the chart's namespace, named in status.jobName)
// and its pod, on a stand-in node whose kubelet serves the pod's log, and
// ends the Job as outcome says. It stops when the test ends, or after five
// minutes.
func HelmController(t testing.TB, cfg *rest.Config, outcome func(chart *unstructured.Unstructured) ChartOutcome) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	var logs sync.Map // namespace/pod → log; stored before the pod exists
	node := standInKubelet(t, cs, func(ns, pod string) string {
		log, _ := logs.Load(ns + "/" + pod)
		s, _ := log.(string)
		return s
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	w, err := dyn.Resource(helmCharts).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			hc, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || ev.Type != watch.Added {
				continue
			}
			out := outcome(hc)
			pod := "helm-install-" + hc.GetName() + "-x1"
			logs.Store(hc.GetNamespace()+"/"+pod, out.Log)
			if err := runInstallJob(ctx, cs, dyn, hc, node, pod, out.Fail); err != nil && ctx.Err() == nil {
				t.Errorf("stand-in Helm controller: %s/%s: %v", hc.GetNamespace(), hc.GetName(), err)
			}
		}
	}()
}

// runInstallJob creates a chart's install Job and pod and ends them.
func runInstallJob(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, hc *unstructured.Unstructured, node, podName string, fail bool) error {
	ns, name := hc.GetNamespace(), "helm-install-"+hc.GetName()
	job, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "helm", Image: "rancher/klipper-helm"}},
		}}},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := endJob(ctx, cs, job, node, podName, fail); err != nil {
		return err
	}
	hc = hc.DeepCopy()
	if err := unstructured.SetNestedField(hc.Object, name, "status", "jobName"); err != nil {
		return err
	}
	_, err = dyn.Resource(helmCharts).Namespace(ns).UpdateStatus(ctx, hc, metav1.UpdateOptions{})
	return err
}

// standInKubelet registers a node whose kubelet is an HTTPS server on
// loopback serving container logs from logs. kube-apiserver proxies pod
// logs to it; with no --kubelet-certificate-authority it does not verify
// the kubelet's certificate
// (https://github.com/kubernetes/kubernetes/blob/v1.37.2/pkg/kubelet/client/kubelet_client.go,
// transportConfig). It returns the node's name.
func standInKubelet(t testing.TB, cs kubernetes.Interface, logs func(ns, pod string) string) string {
	t.Helper()
	name, stop, err := startStandInKubelet(cs, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return name
}

// startStandInKubelet is standInKubelet for a caller that is not a test
// (hack/apiserver, for make demo): stop closes the server and deletes the
// node.
func startStandInKubelet(cs kubernetes.Interface, logs func(ns, pod string) string) (name string, stop func(), err error) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// /containerLogs/<namespace>/<pod>/<container>
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		lines := strings.SplitAfter(logs(parts[0], parts[1]), "\n")
		if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n < len(lines) {
			lines = lines[len(lines)-n:]
		}
		_, _ = fmt.Fprint(w, strings.Join(lines, ""))
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	name = fmt.Sprintf("stand-in-kubelet-%d", p)
	ctx := context.Background()
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	stop = func() {
		srv.Close()
		_ = cs.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(p)
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		stop()
		return "", nil, err
	}
	return name, stop, nil
}
