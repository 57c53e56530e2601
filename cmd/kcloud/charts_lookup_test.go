package main

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/internal/testenv"
)

// TestChartLookupReadsTheCluster: with a cluster connected (diff, apply),
// a chart's lookup of what the plan does not hold reads the live cluster;
// a Secret it reads is masked wherever the chart puts its value; vet,
// offline, reads nothing and warns naming what was looked up.
func TestChartLookupReadsTheCluster(t *testing.T) {
	const canary = "lookup-canary-Zq81" // a Secret value made by hand
	archive := testenv.NewChartRepo(t).AddChart(t, map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
		// A chart that copies a looked-up Secret's value into a
		// ConfigMap: the redactor must know it before it is printed.
		"templates/probe.yaml": `{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace "made-by-hand" }}
{{- $s := lookup "v1" "Secret" .Release.Namespace "made-by-hand" }}
apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
data:
  setting: {{ dig "data" "setting" "unset" $cm | quote }}
  copied: {{ dig "data" "password" "" $s | b64dec | quote }}
`,
	})
	body, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	env := uniqueEnv("lookup")
	dir := chartTree(t, env, "probe", "0.1.0", "{}", map[string][]byte{"0.1.0": body})
	ns := "apps-" + env

	code, out, errOut := kcloud(t, "vet", dir)
	if code != exitOK || !strings.Contains(errOut+out, "probe/templates/probe.yaml looks up ConfigMap "+ns+"/made-by-hand, Secret "+ns+"/made-by-hand") {
		t.Errorf("vet: exit %d, want 0 and a warning naming both lookups\n%s%s", code, out, errOut)
	}

	ctx := context.Background()
	c := typed(t)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	meta := metav1.ObjectMeta{Name: "made-by-hand", Namespace: ns}
	if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"setting": "from-the-cluster"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: meta, Data: map[string][]byte{"password": []byte(canary)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"diff", dir, "--env", env},
		{"diff", dir, "--env", env, "-o", "json", "--with-diff", "--log-level", "debug"},
		{"apply", dir, "--env", env, "--wait=false", "--adopt", "--log-level", "debug"}, // adopts the Namespace made above
	} {
		code, out, errOut := kcLive(t, args...)
		if want := map[string]int{"diff": exitFailed, "apply": exitOK}[args[0]]; code != want {
			t.Fatalf("%s: exit %d\n%s%s", args[0], code, out, errOut)
		}
		if strings.Contains(out+errOut, canary) {
			t.Errorf("kcloud %s printed the looked-up Secret's value:\n%s%s", strings.Join(args, " "), out, errOut)
		}
		if strings.Contains(out+errOut, "looks up") {
			t.Errorf("kcloud %s warned about a lookup the cluster answered:\n%s", args[0], errOut)
		}
		if args[0] == "diff" && len(args) == 4 && !strings.Contains(out, "setting: from-the-cluster") {
			t.Errorf("the diff does not show what the chart read from the cluster:\n%s", out)
		}
	}
	got, err := c.CoreV1().ConfigMaps(ns).Get(ctx, "probe", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["setting"] != "from-the-cluster" || got.Data["copied"] != canary {
		t.Errorf("applied probe: %v", got.Data)
	}
}
