package validate

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilversion "k8s.io/apimachinery/pkg/util/version"

	"kcloud.dev/kcloud/pkg/render"
	"kcloud.dev/kcloud/pkg/spec"
)

// CRD is a CustomResourceDefinition from outside the plan, with where it
// came from.
type CRD struct {
	*apiextensionsv1.CustomResourceDefinition
	// Source is said in messages: "the cluster", a file or URL.
	Source string
}

// Options say which schemas to use besides the built-in and K3s ones, and
// how strictly.
type Options struct {
	// CRDs are the cluster's (ClusterCRDs) and the spec tree's schema
	// sources. A CRD the plan itself renders wins over them.
	CRDs []CRD
	// Strict makes a kind with no schema an error instead of a warning.
	Strict bool
}

var crdGVK = apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition")

// Check checks every object of every stack of res against its kind's
// schema and returns one diagnostic per problem, at the file:line:col of
// the offending field where the object was written by the user. It makes
// no API calls.
func Check(res *render.Result, opts Options) spec.Diagnostics {
	var diags spec.Diagnostics
	if res == nil {
		return nil
	}
	s, err := NewSchemas()
	if err != nil {
		diags.Errorf(spec.Pos{}, "schemas: %v", err)
		return diags
	}
	diags = append(diags, addSchemaDocs(s, res.Schemas)...)
	for _, c := range opts.CRDs {
		if err := s.AddCRD(c.CustomResourceDefinition, c.Source); err != nil {
			diags.Errorf(spec.Pos{}, "%s: %v", c.Source, err)
		}
	}
	objs := res.Objects()
	for _, o := range objs {
		if o.GroupVersionKind() == crdGVK {
			diags = append(diags, addPlanCRD(s, o)...)
		}
	}
	kube := kubernetesVersion(res)
	missing := map[schema.GroupVersionKind]spec.Pos{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if _, ok := s.lookup(gvk); !ok && !builtinGroup(gvk.Group) {
			if p, seen := missing[gvk]; !seen || before(o.Origin, p) {
				missing[gvk] = o.Origin
			}
		}
		s.servedOf(gvk, kube)
	}
	diags = append(diags, checkObjects(s, objs, kube)...)
	for gvk, p := range missing {
		d := spec.Diagnostic{Pos: p, Severity: spec.SeverityWarning, Message: fmt.Sprintf(
			"kind %s (%s) has no schema: it is not built in, not K3s's, and no CRD for it is in the plan, the Cluster's schemas or the cluster; its objects are not checked", gvk.Kind, gvk.GroupVersion())}
		if opts.Strict {
			d.Severity = spec.SeverityError
		}
		diags = append(diags, d)
	}
	return diags.Sorted()
}

// checkObject checks one object: its kind is served, its fields fit its
// schema, its metadata and (for a built-in kind whose schema check passed)
// its fields follow Kubernetes' own rules.
func checkObject(s *Schemas, o render.Object, kube *utilversion.Version) spec.Diagnostics {
	var diags spec.Diagnostics
	gvk := o.GroupVersionKind()
	c, ok := s.lookup(gvk)
	if !ok {
		if builtinGroup(gvk.Group) {
			diags = append(diags, diagnostic(o, fieldError{path: []string{"apiVersion"}, name: "apiVersion", msg: unknownKind(gvk, kube)}))
		}
		return diags
	}
	_, isCRD := s.crds[gvk]
	if !isCRD {
		if v := s.servedOf(gvk, kube); v.msg != "" {
			d := diagnostic(o, fieldError{path: []string{"apiVersion"}, name: "apiVersion", msg: v.msg})
			if !v.warning {
				return append(diags, d)
			}
			d.Severity = spec.SeverityWarning
			diags = append(diags, d)
		}
	}
	errs := c.check(o.Object)
	errs = append(errs, fromFieldErrors(checkMeta(o.Unstructured))...)
	if len(errs) == 0 && !isCRD {
		errs = fromFieldErrors(checkFields(o.Unstructured))
	}
	for _, e := range errs {
		diags = append(diags, diagnostic(o, e))
	}
	return diags
}

// minShareObjects is the fewest objects per CPU worth a worker.
const minShareObjects = 256

// checkObjects checks objs on every CPU, in shares of consecutive objects,
// and returns their diagnostics in object order. Each kind's schema and
// served version must be known to s before (lookup, servedOf): the checks
// then only read s.
func checkObjects(s *Schemas, objs []render.Object, kube *utilversion.Version) spec.Diagnostics {
	workers := max(1, min(goruntime.GOMAXPROCS(0), len(objs)/minShareObjects))
	found := make([]spec.Diagnostics, workers)
	var wg sync.WaitGroup
	for w := range workers {
		share := objs[w*len(objs)/workers : (w+1)*len(objs)/workers]
		wg.Go(func() {
			for _, o := range share {
				found[w] = append(found[w], checkObject(s, o, kube)...)
			}
		})
	}
	wg.Wait()
	return slices.Concat(found...)
}

// addSchemaDocs compiles the CRDs of the spec tree's schema sources. The
// cluster's CRDs, added after them, describe what is really served and win.
func addSchemaDocs(s *Schemas, docs []spec.Doc) spec.Diagnostics {
	var diags spec.Diagnostics
	for _, d := range docs {
		if (&unstructured.Unstructured{Object: d.Object}).GroupVersionKind() != crdGVK {
			diags.Errorf(d.Pos, "a schema source holds only CustomResourceDefinitions (%s), not %v %v", crdGVK.GroupVersion(), d.Object["apiVersion"], d.Object["kind"])
			continue
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.Object, crd); err != nil {
			diags.Errorf(d.Pos, "CustomResourceDefinition: %v", err)
			continue
		}
		if err := s.AddCRD(crd, d.Pos.String()); err != nil {
			diags.Errorf(d.Pos, "%v", err)
		}
	}
	return diags
}

// addPlanCRD compiles a CRD the plan renders; a schema the API server
// would refuse is an error at the CRD.
func addPlanCRD(s *Schemas, o render.Object) spec.Diagnostics {
	var diags spec.Diagnostics
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, crd); err != nil {
		return nil // its own schema check reports what is wrong
	}
	if err := s.AddCRD(crd, o.Origin.String()); err != nil {
		diags.Errorf(o.Origin, "%v", err)
	}
	return diags
}

// diagnostic places e at the field it is about, or at the object when the
// object was not written field by field (a helm or storage entry).
func diagnostic(o render.Object, e fieldError) spec.Diagnostic {
	p, _ := o.Syntax.FieldPos(e.path)
	if !p.IsValid() {
		p = o.Origin
	}
	name := e.name
	if name == "" {
		name = pathString(e.path)
	}
	msg := fmt.Sprintf("%s %s: %s: %s", o.GetKind(), o.GetName(), name, e.msg)
	if o.Template != "" {
		msg = "chart template " + o.Template + ": " + msg
	}
	return spec.Diagnostic{Pos: p, Severity: spec.SeverityError, Message: msg}
}

// pathString formats a path as spec.containers[0].image.
func pathString(path []string) string {
	if len(path) == 0 {
		return "(object)"
	}
	var b strings.Builder
	for i, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func before(a, b spec.Pos) bool {
	return a.File < b.File || (a.File == b.File && (a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)))
}

// Locate returns where the field at path (as the API server and kube-openapi
// write it: spec.containers[0].image) of o is written, or o's Origin when
// o was not written field by field. It places server-side rejections, such
// as fieldValidation=Strict's `unknown field "spec.bogus"`, at their line.
func Locate(o render.Object, path string) spec.Pos {
	if p, _ := o.Syntax.FieldPos(splitOpenAPIPath(path)); p.IsValid() {
		return p
	}
	return o.Origin
}
