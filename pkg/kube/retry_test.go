package kube_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/kube"
)

// fastRetry keeps the tests' backoffs short.
var fastRetry = kube.Retry{Attempts: 4, Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond}

func proxied(t *testing.T) (*testenv.FaultProxy, *kube.Clients) {
	t.Helper()
	p, err := testenv.NewFaultProxy(testenv.Shared(t).Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	c, err := kube.NewForConfig(p.Config(), kube.Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

// TestRetryRepeatsOnlyWhatIsSafe injects each transient fault once into one
// kind of request and checks what the retrying transport makes of it, as
// the client sees it and as the proxy counted it.
func TestRetryRepeatsOnlyWhatIsSafe(t *testing.T) {
	ctx := context.Background()
	for i, tc := range []struct {
		name  string
		verb  string
		fault testenv.Fault
		// call makes one request of verb on the ConfigMap name.
		call func(c *kube.Clients, name string) error
		// sent is how many requests of verb reach the proxy; wantErr is
		// part of the error the caller gets ("" for none).
		sent    int
		wantErr string
	}{
		{name: "get after 500", verb: testenv.VerbGet, fault: testenv.Fault{Status: 500}, call: get, sent: 2},
		{name: "get after a dropped connection", verb: testenv.VerbGet, fault: testenv.Fault{Drop: true}, call: get, sent: 2},
		{name: "server-side apply after 503", verb: testenv.VerbPatch, fault: testenv.Fault{Status: 503}, call: ssa, sent: 2},
		{name: "server-side apply whose answer was lost", verb: testenv.VerbPatch, fault: testenv.Fault{Lost: true}, call: ssa, sent: 2},
		{name: "create after 429 with Retry-After", verb: testenv.VerbCreate, fault: testenv.Fault{Status: 429, RetryAfter: time.Second}, call: create, sent: 2},
		{name: "create after 500 is not repeated", verb: testenv.VerbCreate, fault: testenv.Fault{Status: 500}, call: create, sent: 1, wantErr: "injected fault: 500"},
		{name: "create after a dropped connection is not repeated", verb: testenv.VerbCreate, fault: testenv.Fault{Drop: true}, call: create, sent: 1, wantErr: "connection reset"},
		{name: "update whose answer was lost is not repeated", verb: testenv.VerbUpdate, fault: testenv.Fault{Lost: true}, call: update, sent: 1, wantErr: "connection reset"},
		{name: "strategic merge patch after 500 is not repeated", verb: testenv.VerbPatch, fault: testenv.Fault{Status: 500}, call: strategic, sent: 1, wantErr: "injected fault: 500"},
		{name: "delete whose answer was lost: the retry's 404 is success", verb: testenv.VerbDelete, fault: testenv.Fault{Lost: true}, call: del, sent: 2},
		{name: "delete of what is not there stays 404", verb: testenv.VerbDelete, fault: testenv.Fault{Status: 429, RetryAfter: time.Second}, call: delMissing, sent: 2, wantErr: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, c := proxied(t)
			name := fmt.Sprintf("retry-%d", i)
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
			if tc.verb != testenv.VerbCreate {
				if _, err := c.Typed.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() {
				_ = c.Typed.CoreV1().ConfigMaps("default").Delete(context.Background(), name, metav1.DeleteOptions{})
			})
			p.Reset()
			p.Inject(testenv.Rule{Verbs: []string{tc.verb}, Times: 1, Fault: tc.fault})
			err := tc.call(c, name)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if got := p.Count(tc.verb); got != tc.sent {
				t.Errorf("%s requests sent: %d, want %d", tc.verb, got, tc.sent)
			}
		})
	}
}

func get(c *kube.Clients, name string) error {
	_, err := c.Typed.CoreV1().ConfigMaps("default").Get(context.Background(), name, metav1.GetOptions{})
	return err
}

func create(c *kube.Clients, name string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	_, err := c.Typed.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{})
	return err
}

func update(c *kube.Clients, name string) error {
	cm, err := c.Typed.CoreV1().ConfigMaps("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	cm.Data = map[string]string{"a": "b"}
	_, err = c.Typed.CoreV1().ConfigMaps("default").Update(context.Background(), cm, metav1.UpdateOptions{})
	return err
}

func ssa(c *kube.Clients, name string) error {
	body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"default"},"data":{"a":"b"}}`, name)
	_, err := c.Typed.CoreV1().ConfigMaps("default").Patch(context.Background(), name, types.ApplyPatchType, []byte(body), metav1.PatchOptions{FieldManager: kube.FieldManager})
	return err
}

func strategic(c *kube.Clients, name string) error {
	_, err := c.Typed.CoreV1().ConfigMaps("default").Patch(context.Background(), name, types.StrategicMergePatchType, []byte(`{"data":{"a":"b"}}`), metav1.PatchOptions{})
	return err
}

func del(c *kube.Clients, name string) error {
	return c.Typed.CoreV1().ConfigMaps("default").Delete(context.Background(), name, metav1.DeleteOptions{})
}

func delMissing(c *kube.Clients, name string) error {
	return c.Typed.CoreV1().ConfigMaps("default").Delete(context.Background(), name+"-missing", metav1.DeleteOptions{})
}

// TestRetryGivesUpNamingTheServer: with nothing listening, a request is
// tried Attempts times and fails with an error naming the server and the
// budget spent.
func TestRetryGivesUpNamingTheServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	c, err := kube.NewForConfig(&rest.Config{Host: "http://" + addr}, kube.Options{Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Typed.CoreV1().ConfigMaps("default").Get(context.Background(), "x", metav1.GetOptions{})
	var re *kube.RetryError
	if !errors.As(err, &re) || re.Attempts != fastRetry.Attempts || re.Server != addr {
		t.Fatalf("err = %#v, want a RetryError after %d attempts at %s", err, fastRetry.Attempts, addr)
	}
	for _, want := range []string{addr, "gave up", "after 4 attempt(s)", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if kube.IsTransient(err) {
		t.Error("a spent budget is reported as transient: callers would retry it again")
	}
}

// TestRetryStopsOnCancel: a cancelled request is not retried further.
func TestRetryStopsOnCancel(t *testing.T) {
	p, c := proxied(t)
	ctx, cancel := context.WithCancel(context.Background())
	p.Inject(testenv.Rule{Verbs: []string{testenv.VerbGet}, Fault: testenv.Fault{Status: 503, RetryAfter: 30 * time.Second}, When: func(*http.Request) bool {
		cancel() // the first attempt cancels; its Retry-After would wait 30 s
		return true
	}})
	_, err := c.Typed.CoreV1().ConfigMaps("default").Get(ctx, "x", metav1.GetOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := p.Count(testenv.VerbGet); n != 1 {
		t.Errorf("GETs sent: %d, want 1", n)
	}
}

// TestWriteGateRefusesUnsent: a write the gate refuses never reaches the
// server; reads and dry runs pass.
func TestWriteGateRefusesUnsent(t *testing.T) {
	p, c := proxied(t)
	refused := errors.New("refused by the gate")
	c.SetWriteGate(func(*http.Request) error { return refused })
	ctx := context.Background()
	if err := create(c, "gated"); !errors.Is(err, refused) {
		t.Errorf("create: err = %v, want the gate's", err)
	}
	if err := get(c, "gated"); !apierrors.IsNotFound(err) {
		t.Errorf("get: err = %v, want not found", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gated", Namespace: "default"}}
	if _, err := c.Typed.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("dry-run create: %v", err)
	}
	if n := p.Count(testenv.VerbCreate); n != 1 {
		t.Errorf("creates sent: %d, want 1 (the dry run)", n)
	}
	c.SetWriteGate(nil)
	if err := create(c, "gated"); err != nil {
		t.Errorf("create without the gate: %v", err)
	}
	_ = del(c, "gated")
}

// TestRetryBudgetIsNotMultiplied: a GET whose connection keeps being reset
// is sent Attempts times in all — client-go, which retries reset GETs by
// the words of their error, does not start over on top.
func TestRetryBudgetIsNotMultiplied(t *testing.T) {
	p, c := proxied(t)
	p.Inject(testenv.Rule{Verbs: []string{testenv.VerbGet}, Fault: testenv.Fault{Drop: true}})
	err := get(c, "x")
	var re *kube.RetryError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RetryError", err)
	}
	if n := p.Count(testenv.VerbGet); n != fastRetry.Attempts {
		t.Errorf("GETs sent: %d, want %d", n, fastRetry.Attempts)
	}
}

// TestRetryKeepsTheServersAnswer: an apply the server refuses as an
// internal error because the object does not fit its schema is not
// retried, and its message reaches the caller.
func TestRetryKeepsTheServersAnswer(t *testing.T) {
	p, c := proxied(t)
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"strict","namespace":"default"},"datta":{"a":"b"}}`
	_, err := c.Typed.CoreV1().ConfigMaps("default").Patch(context.Background(), "strict", types.ApplyPatchType, []byte(body),
		metav1.PatchOptions{FieldManager: kube.FieldManager, FieldValidation: "Strict", DryRun: []string{metav1.DryRunAll}})
	if err == nil || !strings.Contains(err.Error(), "field not declared in schema") {
		t.Errorf("err = %v, want the server's message", err)
	}
	if n := p.Count(testenv.VerbPatch); n != 1 {
		t.Errorf("patches sent: %d, want 1", n)
	}
}
