package spec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	l := &loader{
		tabs:    tabs,
		byAbs:   map[string]*specFile{},
		tree:    &Tree{Tables: tabs},
		broken:  map[string]bool{},
		srcs:    map[*Component]cue.Value{},
		compDoc: map[*Component]document{},
		clSrc:   map[*Cluster]cue.Value{},
		clDoc:   map[*Cluster]document{},
		dirs:    dirs,
		ctx:     ctx,
	}
	for _, dir := range dirs {
		if err := l.walk(dir); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range l.files {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("load specs: %w", err)
		}
		l.decodeFile(f)
	}
	l.loadManifests()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("load specs: %w", err)
	}
	l.checkPlainSecrets()
	l.checkStray()
	l.checkRules()
	l.scanSubstitutions()
	return l.tree, l.diags.Sorted(), nil
}

// walk collects the YAML files under dir in lexical order.
func (l *loader) walk(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	root, err := realPath(dir)
	if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("load specs: %w", err)
		}
		if d.IsDir() {
			if path != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !isYAML(path) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := realPath(path)
			if err != nil {
				l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "broken symlink: %v", err)
				return nil
			}
			if !within(root, target) {
				l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "symlink points outside the spec tree %s", dir)
				return nil
			}
			if st, err := os.Stat(target); err != nil || !st.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		if _, dup := l.byAbs[abs]; dup {
			return nil
		}
		f := &specFile{path: path, abs: abs, root: root}
		src, ok := l.read(path)
		if ok {
			var diags Diagnostics
			f.src = src
			f.docs, diags = parseYAML(path, src)
			l.diags = append(l.diags, diags...)
		}
		l.files = append(l.files, f)
		l.byAbs[abs] = f
		return nil
	})
}

// read returns a file's bytes, refusing files over MaxFileSize before
// parsing them.
func (l *loader) read(path string) ([]byte, bool) {
	fh, err := os.Open(path)
	if err != nil {
		l.diags.errorf(Pos{File: path}, "%v", err)
		return nil, false
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		l.diags.errorf(Pos{File: path}, "%v", err)
		return nil, false
	}
	if len(src) > MaxFileSize {
		l.diags.errorf(Pos{File: path, Line: 1, Column: 1}, "file is larger than %d MiB; refusing to parse it", MaxFileSize>>20)
		return nil, false
	}
	return src, true
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
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
			Channel string   `json:"channel"`
			Version string   `json:"version"`
			Disable []string `json:"disable"`
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
		Schemas []any `json:"schemas"`
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
	c.K3s = K3s{Channel: s.K3s.Channel, Version: s.K3s.Version, Disable: s.K3s.Disable}
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
		Manifests []any            `json:"manifests"`
		Objects   []map[string]any `json:"objects"`
	} `json:"spec"`
}

func (l *loader) decodeComponent(f *specFile, doc document) {
	data, u, ok := l.unify(f, doc, "#Component")
	pos := func(path string) Pos { return posAt(data, path, f.path) }
	if !ok {
		if name, err := data.LookupPath(cue.ParsePath("metadata.name")).String(); err == nil {
			l.broken[name] = true
		}
		return
	}
	var raw rawComponent
	if err := decodeJSON(u, &raw); err != nil {
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
	}
	c.Manifests = parseManifests(s.Manifests, "spec.manifests", pos)
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

// parseManifests reads a list of #Manifest entries at path.
func parseManifests(raw []any, path string, pos func(string) Pos) []Manifest {
	var out []Manifest
	for i, m := range raw {
		p := pos(fmt.Sprintf("%s[%d]", path, i))
		switch m := m.(type) {
		case string:
			out = append(out, Manifest{Path: m, Pos: p})
		case map[string]any:
			url, _ := m["url"].(string)
			sum, _ := m["sha256"].(string)
			out = append(out, Manifest{URL: url, SHA256: sum, Pos: p})
		}
	}
	return out
}

// posAt is where the value at a dotted path (with [i] indices) is written,
// or its closest parent's position when it is absent.
func posAt(data cue.Value, path, file string) Pos {
	_, p := lookupData(data, splitPath(path), file)
	return p
}

func splitPath(path string) []string {
	path = strings.ReplaceAll(path, "[", ".")
	path = strings.ReplaceAll(path, "]", "")
	return strings.Split(path, ".")
}

// loadManifests resolves every local manifest path, inside the tree the
// spec file came from, and reads its documents.
func (l *loader) loadManifests() {
	for _, c := range l.tree.Components {
		f := l.byAbs[mustAbs(c.File)]
		for i := range c.Manifests {
			if m := &c.Manifests[i]; m.URL == "" {
				l.loadManifest(c.File, c.Name, f, m)
			}
		}
	}
	for _, c := range l.clusters {
		f := l.byAbs[mustAbs(c.File)]
		for i := range c.Schemas {
			if m := &c.Schemas[i]; m.URL == "" && f != nil {
				l.loadManifest(c.File, "the Cluster's schemas", f, m)
			}
		}
	}
}

func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return abs
}

// loadManifest reads the local manifest m, listed in file by owner.
func (l *loader) loadManifest(file, owner string, from *specFile, m *Manifest) {
	rel := m.Path
	if filepath.IsAbs(rel) {
		l.diags.errorf(m.Pos, "manifest %q must be a path relative to %s", rel, filepath.Base(file))
		return
	}
	display := filepath.Join(filepath.Dir(file), rel)
	abs := mustAbs(display)
	if !within(from.root, abs) {
		l.diags.errorf(m.Pos, "manifest %q is outside the spec tree", rel)
		return
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.diags.errorf(m.Pos, "manifest %q does not exist", rel)
		} else {
			l.diags.errorf(m.Pos, "manifest %q: %v", rel, err)
		}
		return
	}
	if !within(from.root, real) {
		l.diags.errorf(m.Pos, "manifest %q resolves outside the spec tree (symlink)", rel)
		return
	}
	if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
		l.diags.errorf(m.Pos, "manifest %q is not a regular file", rel)
		return
	}
	mf, ok := l.byAbs[abs]
	if !ok {
		// A manifest with another extension, not seen by the walk.
		mf = &specFile{path: display, abs: abs, root: from.root}
		if src, ok := l.read(display); ok {
			var diags Diagnostics
			mf.src = src
			mf.docs, diags = parseYAML(display, src)
			l.diags = append(l.diags, diags...)
		}
		l.byAbs[abs] = mf
	}
	m.Path = abs
	mf.manifestOf = append(mf.manifestOf, owner)
	meta, plain := readSOPS(mf.path, mf.src, mf.docs)
	docs, diags := manifestDocs(mf.path, plain, l.tabs)
	l.diags = append(l.diags, diags...)
	m.Docs = docs
	if meta != nil {
		for _, d := range docs {
			placeholders(d.Object)
		}
		m.SOPS = meta
		if len(mf.manifestOf) == 1 {
			l.tree.Encrypted = append(l.tree.Encrypted, meta)
		}
	}
}

// manifestDocs converts parsed documents of a manifest file to objects.
func manifestDocs(file string, docs []document, tabs *Tables) ([]Doc, Diagnostics) {
	var diags Diagnostics
	var out []Doc
	ctx := tabs.ctx
	for _, d := range docs {
		if strings.HasPrefix(d.apiVersion, "kcloud.dev/") {
			diags.errorf(d.pos, "manifest file holds a kcloud %s document; manifests are plain Kubernetes objects", d.kind)
			continue
		}
		v := ctx.BuildExpr(d.expr, cue.Filename(file))
		obj := map[string]any{}
		if err := v.Err(); err != nil {
			diags.errorf(d.pos, "%v", err)
			continue
		}
		if err := decodeJSON(v, &obj); err != nil {
			diags.errorf(d.pos, "%v", err)
			continue
		}
		for _, k := range []string{"apiVersion", "kind"} {
			if s, _ := obj[k].(string); s == "" {
				diags.errorf(d.pos, "object has no %s", k)
			}
		}
		checkObjectMeta(d, obj, file, &diags)
		out = append(out, Doc{Object: obj, Pos: d.pos, Syntax: Syntax{node: d.expr, file: file}})
	}
	return out, diags
}

// ParseManifest parses fetched manifest bytes (a pinned URL) the way local
// manifests are parsed; name stands in for the file in positions.
func ParseManifest(name string, src []byte) ([]Doc, Diagnostics) {
	tabs, err := LoadTables()
	if err != nil {
		var d Diagnostics
		d.errorf(Pos{File: name}, "%v", err)
		return nil, d
	}
	if len(src) > MaxFileSize {
		var d Diagnostics
		d.errorf(Pos{File: name}, "manifest is larger than %d MiB", MaxFileSize>>20)
		return nil, d
	}
	docs, diags := parseYAML(name, src)
	out, more := manifestDocs(name, docs, tabs)
	return out, append(diags, more...)
}

// checkStray reports documents that are neither kcloud documents nor part
// of a file some component lists under manifests.
func (l *loader) checkStray() {
	for _, f := range l.files {
		if len(f.manifestOf) > 0 {
			continue
		}
		for _, d := range f.docs {
			if strings.HasPrefix(d.apiVersion, "kcloud.dev/") {
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
