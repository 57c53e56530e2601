package validate_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kcloud.dev/kcloud/internal/testenv"
	"kcloud.dev/kcloud/pkg/plancheck"
	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
	"kcloud.dev/kcloud/pkg/validate"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }

// corpusDir is the real-world manifest corpus (README there: every file
// unchanged from its upstream repository and commit).
var corpusDir = filepath.Join("..", "..", "..", "shared", "upstream", "corpus")

// corpusObject is one document of the corpus, as vet sees it.
type corpusObject struct {
	id  string // file#document
	obj map[string]any
	pos spec.Pos
	syn spec.Syntax
	// vet is vet's first error for the object, "" when it accepts it.
	vet string
}

// TestCorpusAgreesWithAPIServer runs every object of the corpus through
// vet (the manifest parser and Check, as for a pinned URL manifest) and
// through the test API server's strict server-side dry run. Every
// disagreement must be listed in testdata/corpus-differences.txt with its
// reason; a listed one that no longer disagrees fails too.
func TestCorpusAgreesWithAPIServer(t *testing.T) {
	if _, err := os.Stat(filepath.Join(corpusDir, "README.md")); err != nil {
		testenv.Note(t, "the differential test against the API server: ../shared/upstream/corpus is not here")
		t.Skip("no corpus")
	}
	objs, crds := vetCorpus(t)
	srv := testenv.Shared(t)
	if _, err := envtest.InstallCRDs(srv.Config(), envtest.CRDInstallOptions{CRDs: crds}); err != nil {
		t.Fatalf("install the corpus's CRDs: %v", err)
	}
	server := dryRunAll(t, objs)
	want := readDifferences(t)
	got := map[string]string{}
	var vetOnly, serverOnly, agree int
	for _, o := range objs {
		serr := server[o.id]
		switch {
		case o.vet != "" && serr == "":
			vetOnly++
			got[o.id] = "vet-only"
			t.Logf("%s: vet rejects, the server accepts: %s", o.id, o.vet)
		case o.vet == "" && serr != "" && planCheck(o) != "":
			// kcloud vet's plan checks reject it (rule 16: a reference
			// nothing in the plan defines); Check alone cannot.
			got[o.id] = "plancheck"
			t.Logf("%s: the server rejects, kcloud vet's plan checks too: %s; %s", o.id, serr, planCheck(o))
		case o.vet == "" && serr != "":
			serverOnly++
			got[o.id] = "server-only"
			t.Logf("%s: the server rejects, vet accepts: %s", o.id, serr)
		default:
			agree++
		}
	}
	t.Logf("%d objects: %d agree, %d only vet rejects, %d only the server rejects", len(objs), agree, vetOnly, serverOnly)
	if serverOnly > 0 {
		t.Errorf("%d object(s) the server rejects and vet accepts", serverOnly)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("disagreements differ from testdata/corpus-differences.txt (-listed +found):\n%s", diff)
	}
}

// vetCorpus parses every corpus file and checks its objects with Check;
// it returns the objects with vet's verdict and the corpus's CRDs.
func vetCorpus(t *testing.T) ([]*corpusObject, []*apiextensionsv1.CustomResourceDefinition) {
	var objs []*corpusObject
	var crds []*apiextensionsv1.CustomResourceDefinition
	res := &render.Result{Stacks: []render.Stack{{Name: "corpus"}}}
	byPos := map[spec.Pos]*corpusObject{}
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (!strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		docs, diags := spec.ParseManifest(rel, src)
		for i, doc := range docs {
			o := &corpusObject{id: fmt.Sprintf("%s#%d", rel, i), obj: doc.Object, pos: doc.Pos, syn: doc.Syntax}
			objs = append(objs, o)
			byPos[doc.Pos] = o
			res.Stacks[0].Objects = append(res.Stacks[0].Objects, render.Object{Unstructured: &unstructured.Unstructured{Object: doc.Object}, Origin: doc.Pos, Syntax: doc.Syntax})
			if doc.Object["kind"] == "CustomResourceDefinition" {
				crd := &apiextensionsv1.CustomResourceDefinition{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(doc.Object, crd); err == nil {
					crds = append(crds, crd)
				}
			}
		}
		for _, d := range diags {
			if o := owner(objs, d.Pos); d.Severity == spec.SeverityError && o != nil && o.vet == "" {
				o.vet = d.Pos.String() + ": " + d.Message
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range validate.Check(res, validate.Options{Strict: true}) {
		if o := owner(objs, d.Pos); d.Severity == spec.SeverityError && o != nil && o.vet == "" {
			o.vet = d.Pos.String() + ": " + d.Message
		}
	}
	return objs, crds
}

// planCheck runs kcloud vet's plan checks (pkg/plancheck) on the object
// alone and returns its first unresolved reference (rule 16), or "". Over a single object every
// reference to another is unresolved: it is asked only about objects the
// server rejects and Check accepts.
func planCheck(o *corpusObject) string {
	one := &render.Result{Stacks: []render.Stack{{Name: "corpus", Objects: []render.Object{{
		Unstructured: &unstructured.Unstructured{Object: o.obj}, Origin: o.pos, Syntax: o.syn}}}}}
	for _, d := range plancheck.Check(one, &spec.Tree{Cluster: &spec.Cluster{}}, plancheck.Options{}) {
		if d.Severity == spec.SeverityError && strings.Contains(d.Message, "is not in the plan") {
			return d.Pos.String() + ": " + d.Message
		}
	}
	return ""
}

// owner is the object whose document holds p: the last one of p's file
// that starts at or before it.
func owner(objs []*corpusObject, p spec.Pos) *corpusObject {
	var best *corpusObject
	for _, o := range objs {
		if o.pos.File == p.File && (o.pos.Line < p.Line || (o.pos.Line == p.Line && o.pos.Column <= p.Column)) {
			if best == nil || o.pos.Line > best.pos.Line || (o.pos.Line == best.pos.Line && o.pos.Column > best.pos.Column) {
				best = o
			}
		}
	}
	return best
}

// dryRunAll creates every object with a strict server-side dry run, the
// namespaced ones in a fresh namespace; it returns the server's error
// per object ("" when accepted: an object that exists already counts as
// accepted, its validation having passed).
func dryRunAll(t *testing.T, objs []*corpusObject) map[string]string {
	ctx := t.Context()
	cfg := testenv.Shared(t).Config()
	cfg.WarningHandler = rest.NoWarnings{} // deprecation warnings are not verdicts
	cs := kubernetes.NewForConfigOrDie(cfg)
	dyn := dynamic.NewForConfigOrDie(cfg)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	ns := "corpus-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(ns) > 63 {
		ns = ns[:63]
	}
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := dyn.Resource(namespaces).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		out[o.id] = dryRun(ctx, dyn, mapper, ns, o.obj)
	}
	return out
}

var namespaces = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

func dryRun(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, ns string, obj map[string]any) string {
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(obj)}
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return "not served: " + err.Error()
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		u.SetNamespace(ns)
		ri = dyn.Resource(m.Resource).Namespace(ns)
	}
	_, err = ri.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	if err == nil || apierrors.IsAlreadyExists(err) {
		return ""
	}
	return err.Error()
}

// readDifferences reads testdata/corpus-differences.txt: lines of
// "file#document<TAB>vet-only|plancheck<TAB>reason". server-only is
// never allowed: Check or the plan checks must reject what the server does.
func readDifferences(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join("testdata", "corpus-differences.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 || !slices.Contains([]string{"vet-only", "plancheck"}, fields[1]) || strings.TrimSpace(fields[2]) == "" {
			t.Fatalf("testdata/corpus-differences.txt: %q: want file#doc, vet-only or plancheck, and a reason, tab-separated", line)
		}
		out[fields[0]] = fields[1]
	}
	return out
}
