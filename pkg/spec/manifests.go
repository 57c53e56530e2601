package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
)

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
			patches, _ := m["patches"].([]any)
			out = append(out, Manifest{URL: url, SHA256: sum, Pos: p,
				Patches: parsePatches(patches, fmt.Sprintf("%s[%d].patches", path, i), pos)})
		}
	}
	return out
}

// parsePatches reads the #Patch entries of a remote manifest at path.
func parsePatches(raw []any, path string, pos func(string) Pos) []Patch {
	var out []Patch
	for i, r := range raw {
		m, _ := r.(map[string]any)
		p := Patch{Patch: m["patch"], Pos: pos(fmt.Sprintf("%s[%d]", path, i))}
		if t, ok := m["target"].(map[string]any); ok {
			p.Target = &PatchTarget{}
			p.Target.Group, _ = t["group"].(string)
			p.Target.Version, _ = t["version"].(string)
			p.Target.Kind, _ = t["kind"].(string)
			p.Target.Name, _ = t["name"].(string)
			p.Target.Namespace, _ = t["namespace"].(string)
			p.Target.LabelSelector, _ = t["labelSelector"].(string)
			p.Target.AnnotationSelector, _ = t["annotationSelector"].(string)
		}
		out = append(out, p)
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
	for _, d := range expandLists(file, docs, &diags) {
		if strings.HasPrefix(d.apiVersion, "kcloud.dev/") {
			diags.errorf(d.pos, "manifest file holds a kcloud %s document; manifests are plain Kubernetes objects", d.kind)
			continue
		}
		obj, err := decodeDoc(ctx, d, file)
		if err != nil {
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

// decodeDoc decodes a manifest document: straight from its syntax when it
// is plain data, through CUE otherwise.
func decodeDoc(ctx *cue.Context, d document, file string) (map[string]any, error) {
	if v, ok := toGo(d.expr); ok {
		return v.(map[string]any), nil
	}
	v := ctx.BuildExpr(d.expr, cue.Filename(file))
	if err := v.Err(); err != nil {
		return nil, err
	}
	obj := map[string]any{}
	return obj, decodeJSON(v, &obj)
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

// expandLists replaces each list document (kind v1 List, or any kind
// ending in List with items, as kubectl's resource builder reads them:
// meta.ExtractList) by its items, so that each item is checked and applied
// as an object of its own, at its own position.
func expandLists(file string, docs []document, diags *Diagnostics) []document {
	var out []document
	for _, d := range docs {
		items, ok := fieldValue(d.expr, "items").(*ast.ListLit)
		if !strings.HasSuffix(d.kind, "List") || !ok {
			out = append(out, d)
			continue
		}
		var inner []document
		for i, el := range items.Elts {
			sl, ok := el.(*ast.StructLit)
			if !ok {
				diags.errorf(toPos(el.Pos(), file), "%s: items[%d] must be a mapping with apiVersion and kind", d.kind, i)
				continue
			}
			item := document{expr: sl, pos: toPos(sl.Pos(), file)}
			item.apiVersion, _ = stringField(sl, "apiVersion")
			item.kind, _ = stringField(sl, "kind")
			inner = append(inner, item)
		}
		out = append(out, expandLists(file, inner, diags)...)
	}
	return out
}
