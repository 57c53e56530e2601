package testenv

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestFaultProxyHooks creates three ConfigMaps through the proxy with a
// hook on the second create: before it is sent (the request is dropped,
// the object never created) or after it is answered (created, and the
// client still gets the answer).
func TestFaultProxyHooks(t *testing.T) {
	direct := kubernetes.NewForConfigOrDie(Shared(t).Config())
	for _, tc := range []struct {
		name    string
		after   bool
		created []bool // the three ConfigMaps, after the run
		failed  []bool // which creates failed, as the client saw them
	}{
		{"before the request is sent", false, []bool{true, false, true}, []bool{false, true, false}},
		{"after the answer", true, []bool{true, true, true}, []bool{false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t)
			cs := kubernetes.NewForConfigOrDie(p.Config())
			ns := fmt.Sprintf("hook-%t", tc.after)
			if _, err := direct.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			var existed []bool // by the time the hook ran
			fired := 0
			remove := p.OnRequest(Hook{Verbs: []string{VerbCreate}, Path: "/namespaces/" + ns + "/configmaps", N: 2, After: tc.after, Func: func(*http.Request) {
				fired++
				for i := range 3 {
					_, err := direct.CoreV1().ConfigMaps(ns).Get(context.Background(), fmt.Sprint("cm-", i), metav1.GetOptions{})
					existed = append(existed, err == nil)
				}
			}})
			defer remove()
			var failed, created []bool
			for i := range 3 {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("cm-", i)}}
				_, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{})
				failed = append(failed, err != nil)
			}
			for i := range 3 {
				_, err := direct.CoreV1().ConfigMaps(ns).Get(context.Background(), fmt.Sprint("cm-", i), metav1.GetOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Fatal(err)
				}
				created = append(created, err == nil)
			}
			if fired != 1 {
				t.Fatalf("the hook ran %d times, want once", fired)
			}
			wantExisted := []bool{true, tc.after, false}
			for i := range 3 {
				if existed[i] != wantExisted[i] || created[i] != tc.created[i] || failed[i] != tc.failed[i] {
					t.Errorf("cm-%d: existed when the hook ran %v, created %v, failed %v; want %v, %v, %v",
						i, existed[i], created[i], failed[i], wantExisted[i], tc.created[i], tc.failed[i])
				}
			}
		})
	}
}
