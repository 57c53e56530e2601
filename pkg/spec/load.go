package spec

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	kjson "k8s.io/apimachinery/pkg/util/json"
)

// specFile is one YAML file of the tree.
type specFile struct {
	path string // as displayed: the given directory joined with the relative path
	abs  string
	root string // absolute, symlink-free root of the tree it was found in
	src  []byte
	// read: src was read, to be parsed into docs.
	read bool
	docs []document
	// manifestOf names the components that list this file under manifests.
	manifestOf []string
}

type loader struct {
	tabs  *Tables
	diags Diagnostics
	files []*specFile
	byAbs map[string]*specFile
	tree  *Tree
	// broken names components whose documents did not decode, so rules
	// about them do not cascade.
	broken map[string]bool
	// srcs keeps each component's data, for positions of later rules.
	srcs     map[*Component]cue.Value
	clusters []*Cluster
	clSrc    map[*Cluster]cue.Value
	// compDoc keeps each component's syntax, for the substitution scan.
	compDoc map[*Component]document
	clDoc   map[*Cluster]document
	dirs    []string
	// ctx stops the walk and the decoding between files.
	ctx context.Context
}

// Load reads every *.yaml and *.yml file under dirs, recursively. The
// returned error is for usage and I/O problems (a missing directory); every
// problem with the specs themselves is a Diagnostic, and the Tree is nil
// when any of them is an error.
//
// Loading stops when ctx is cancelled (Ctrl-C, SIGTERM), with ctx's error.
func Load(ctx context.Context, dirs []string) (*Tree, Diagnostics, error) {
	tree, diags, err := LoadPartial(ctx, dirs)
	if err != nil || diags.HasErrors() {
		return nil, diags, err
	}
	return tree, diags, nil
}

// LoadPartial is Load, but returns what did load even when there are errors,
// so that vet can go on to check the rendered objects and report every
// problem in one run. A tree with errors must never be applied.
func LoadPartial(ctx context.Context, dirs []string) (*Tree, Diagnostics, error) {
	tabs, err := LoadTables()
	if err != nil {
		return nil, nil, err
	}
	if len(dirs) == 0 {
		return nil, nil, errors.New("no spec directory given")
	}
	l := newLoader(ctx, tabs)
	l.byAbs, l.dirs = map[string]*specFile{}, dirs
	for _, dir := range dirs {
		if err := l.walk(dir); err != nil {
			return nil, nil, err
		}
	}
	l.decodeFiles()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("load specs: %w", err)
	}
	l.loadManifests()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("load specs: %w", err)
	}
	l.checkPlainSecrets()
	l.checkEncryptedLiterals()
	l.checkStray()
	l.checkRules()
	l.scanSubstitutions()
	return l.tree, l.diags.Sorted(), nil
}

// decodeFile decodes the kcloud documents of one file.
func (l *loader) decodeFile(f *specFile) {
	for _, doc := range f.docs {
		if !strings.HasPrefix(doc.apiVersion, "kcloud.dev/") {
			continue // a manifest, or a stray document checked later
		}
		if doc.apiVersion != APIVersion {
			l.diags.errorf(fieldPos(doc, "apiVersion", f.path), "unknown apiVersion %q; use %s", doc.apiVersion, APIVersion)
			continue
		}
		switch doc.kind {
		case "Cluster":
			l.decodeCluster(f, doc)
		case "Component":
			l.decodeComponent(f, doc)
		default:
			l.diags.errorf(fieldPos(doc, "kind", f.path), "unknown kind %q; use one of %s", doc.kind, strings.Join(l.tabs.Kinds, ", "))
		}
	}
}

// fieldPos is where a top-level field's value is written.
func fieldPos(doc document, name, file string) Pos {
	for _, el := range doc.expr.Elts {
		if fld, ok := el.(*ast.Field); ok && fieldLabel(fld) == name {
			return toPos(fld.Value.Pos(), file)
		}
	}
	return doc.pos
}

// unify builds a document and unifies it with a schema definition. It
// returns the data alone (for positions), the unified value, and whether it
// validated.
func (l *loader) unify(f *specFile, doc document, def string) (data, unified cue.Value, ok bool) {
	ctx := l.tabs.ctx
	data = ctx.BuildExpr(doc.expr, cue.Filename(f.path))
	if err := data.Err(); err != nil {
		l.diags.errorf(doc.pos, "%v", err)
		return data, data, false
	}
	unified = l.tabs.def(def).Unify(data)
	if err := unified.Validate(cue.Concrete(true)); err != nil {
		l.diags = append(l.diags, schemaDiagnostics(err, data, unified, l.tabs.def(def), f.path)...)
		return data, unified, false
	}
	return data, unified, true
}

// decodeJSON decodes a validated value through JSON so that numbers become
// int64 or float64, as Kubernetes' unstructured objects expect.
func decodeJSON(v cue.Value, dst any) error {
	b, err := v.MarshalJSON()
	if err != nil {
		return err
	}
	return kjson.Unmarshal(b, dst)
}

type rawCluster struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		K3s struct {
			Channel   string   `json:"channel"`
			Version   string   `json:"version"`
			Disable   []string `json:"disable"`
			Snapshots struct {
				Retain int `json:"retain"`
			} `json:"snapshots"`
		} `json:"k3s"`
		APIEndpoint string `json:"apiEndpoint"`
		Nodes       []struct {
			Name    string `json:"name"`
			Host    string `json:"host"`
			User    string `json:"user"`
			Port    int    `json:"port"`
			Role    string `json:"role"`
			HostKey string `json:"hostKey"`
		} `json:"nodes"`
		Storage struct {
			Path string `json:"path"`
		} `json:"storage"`
		Domains struct {
			Internal string `json:"internal"`
			Base     string `json:"base"`
		} `json:"domains"`
		Environments []struct {
			Name   string `json:"name"`
			Prefix string `json:"prefix"`
		} `json:"environments"`
		Schemas []any  `json:"schemas"`
		Demo    string `json:"demo"`
	} `json:"spec"`
}

func (l *loader) decodeCluster(f *specFile, doc document) {
	data, u, ok := l.unify(f, doc, "#Cluster")
	pos := func(path string) Pos { return posAt(data, path, f.path) }
	c := &Cluster{Pos: pos("metadata.name"), File: f.path}
	if !ok {
		// Still count it, so "exactly one Cluster" does not also fire.
		l.clusters = append(l.clusters, c)
		return
	}
	var raw rawCluster
	if err := decodeJSON(u, &raw); err != nil {
		l.diags.errorf(doc.pos, "decode Cluster: %v", err)
		return
	}
	s := raw.Spec
	c.Name = raw.Metadata.Name
	c.K3s = K3s{Channel: s.K3s.Channel, Version: s.K3s.Version, Disable: s.K3s.Disable, SnapshotRetain: s.K3s.Snapshots.Retain}
	c.APIEndpoint, c.APIEndpointPos = s.APIEndpoint, pos("spec.apiEndpoint")
	c.StoragePath, c.StoragePathPos = s.Storage.Path, pos("spec.storage.path")
	c.Domains = Domains{Internal: s.Domains.Internal, Base: s.Domains.Base}
	for i, n := range s.Nodes {
		p := fmt.Sprintf("spec.nodes[%d]", i)
		c.Nodes = append(c.Nodes, Node{
			Name: n.Name, Host: n.Host, User: n.User, Port: n.Port, Role: n.Role, HostKey: n.HostKey,
			Pos: pos(p), HostPos: pos(p + ".host"),
		})
	}
	for i, e := range s.Environments {
		env := Environment{Name: e.Name, Prefix: e.Prefix, Pos: pos(fmt.Sprintf("spec.environments[%d]", i))}
		app, api, err := l.tabs.BusinessDomains(e.Prefix, c.Domains.Base)
		if err != nil {
			l.diags.errorf(env.Pos, "%v", err)
		}
		env.App, env.API = app, api
		c.Environments = append(c.Environments, env)
	}
	c.Schemas = parseManifests(s.Schemas, "spec.schemas", pos)
	c.Demo, c.DemoPos = s.Demo, pos("spec.demo")
	l.clusters = append(l.clusters, c)
	l.clSrc[c] = data
	l.clDoc[c] = doc
}

type rawComponent struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Layer     string   `json:"layer"`
		Namespace string   `json:"namespace"`
		Envs      []string `json:"envs"`
		Stateful  bool     `json:"stateful"`
		Storage   []struct {
			Name         string `json:"name"`
			Size         string `json:"size"`
			StorageClass string `json:"storageClass"`
		} `json:"storage"`
		DependsOn []string `json:"dependsOn"`
		Helm      *struct {
			Repo    string         `json:"repo"`
			Chart   string         `json:"chart"`
			Version string         `json:"version"`
			Values  map[string]any `json:"values"`
		} `json:"helm"`
		Manifests      []any            `json:"manifests"`
		Objects        []map[string]any `json:"objects"`
		UnpinnedImages []struct {
			Image  string `json:"image"`
			Reason string `json:"reason"`
		} `json:"unpinnedImages"`
	} `json:"spec"`
}

func (l *loader) decodeComponent(f *specFile, doc document) {
	// Plain data (nearly every document) is decoded from its syntax and
	// CUE checks only what the schema constrains; the rest goes through
	// CUE whole.
	checked := doc
	whole, plain := toGo(doc.expr)
	if plain {
		checked.expr = stripComponent(doc.expr)
	}
	data, u, ok := l.unify(f, checked, "#Component")
	pos := func(path string) Pos { return posAt(data, path, f.path) }
	if !ok {
		if name, err := data.LookupPath(cue.ParsePath("metadata.name")).String(); err == nil {
			l.broken[name] = true
		}
		return
	}
	var raw rawComponent
	if err := decodeComponentData(u, whole, plain, &raw); err != nil {
		l.diags.errorf(doc.pos, "decode Component: %v", err)
		return
	}
	s := raw.Spec
	c := &Component{
		Name:      raw.Metadata.Name,
		Layer:     s.Layer,
		Namespace: s.Namespace,
		Envs:      s.Envs,
		Stateful:  s.Stateful,
		DependsOn: s.DependsOn,
		File:      f.path,
		Pos:       pos("metadata.name"),
	}
	for i, v := range s.Storage {
		class := v.StorageClass
		if class == "" {
			class = l.tabs.Retention.Stateless
			if c.Stateful {
				class = l.tabs.Retention.Stateful
			}
		}
		c.Storage = append(c.Storage, Volume{Name: v.Name, Size: v.Size, StorageClass: class, Pos: pos(fmt.Sprintf("spec.storage[%d]", i))})
	}
	for i := range s.DependsOn {
		c.DependsOnPos = append(c.DependsOnPos, pos(fmt.Sprintf("spec.dependsOn[%d]", i)))
	}
	if h := s.Helm; h != nil {
		c.Helm = &Helm{Repo: h.Repo, Chart: h.Chart, Version: h.Version, Values: h.Values, Pos: pos("spec.helm")}
		if helm, ok := fieldValue(fieldValue(doc.expr, "spec"), "helm").(*ast.StructLit); ok {
			c.Helm.ValuesSyntax = Syntax{node: fieldValue(helm, "values"), file: f.path}
		}
	}
	c.Manifests = parseManifests(s.Manifests, "spec.manifests", pos)
	for i, u := range s.UnpinnedImages {
		c.UnpinnedImages = append(c.UnpinnedImages, UnpinnedImage{Image: u.Image, Reason: u.Reason, Pos: pos(fmt.Sprintf("spec.unpinnedImages[%d].image", i))})
	}
	specNode, _ := fieldValue(doc.expr, "spec").(*ast.StructLit)
	for i, o := range s.Objects {
		d := Doc{Object: o, Pos: pos(fmt.Sprintf("spec.objects[%d]", i))}
		if specNode != nil {
			d.Syntax = Syntax{node: listElem(specNode, "objects", i), file: f.path}
		}
		c.Objects = append(c.Objects, d)
	}
	l.tree.Components = append(l.tree.Components, c)
	l.srcs[c] = data
	l.compDoc[c] = doc
}

// checkStray reports documents that are neither kcloud documents nor part
// of a file some component lists under manifests. A Secret with a value
// in plaintext gets the plaintext-Secret error instead: that is what must
// be fixed first, whether a component lists the file or not.
func (l *loader) checkStray() {
	for _, f := range l.files {
		if len(f.manifestOf) > 0 {
			continue
		}
		for _, d := range f.docs {
			if strings.HasPrefix(d.apiVersion, "kcloud.dev/") || l.checkPlainSecret(d.expr, f.path) {
				continue
			}
			what := "a document without apiVersion/kind"
			if d.apiVersion != "" || d.kind != "" {
				what = fmt.Sprintf("apiVersion %q, kind %q", d.apiVersion, d.kind)
			}
			l.diags.errorf(d.pos, "not a kcloud document (%s): use apiVersion %s with kind %s, or list this file under a component's manifests", what, APIVersion, strings.Join(l.tabs.Kinds, " or "))
		}
	}
}

// sortComponents orders components by name.
func sortComponents(cs []*Component) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
}
