package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"

	"kcloud.dev/kcloud/pkg/spec"
)

// checkValues checks a helm entry's values against its chart, at the line
// of each key: against the values.schema.json of the chart and of each
// subchart (errors), and for keys neither the chart's default values
// (subcharts included) nor any template reads (warnings naming the nearest
// key; errors when strict). Values are checked once per component, as
// substituted for its first environment.
func checkValues(ch *chart.Chart, h *spec.Helm, values map[string]any, strict bool) spec.Diagnostics {
	var diags spec.Diagnostics
	name := fmt.Sprintf("chart %s %s", ch.Name(), ch.Metadata.Version)
	coalesced, err := commonutil.CoalesceValues(ch, values)
	if err != nil {
		diags.Errorf(h.Pos, "%s: values: %v", name, err)
		return diags
	}
	diags = append(diags, schemaErrors(ch, h, coalesced, nil)...)
	defaults, err := commonutil.CoalesceValues(ch, map[string]any{})
	if err != nil {
		return diags
	}
	k := knownKeys{defaults: defaults, read: templateReads(ch, nil)}
	sev := spec.SeverityWarning
	if strict {
		sev = spec.SeverityError
	}
	for _, p := range k.unknown(values, nil) {
		pos, _ := h.ValuesSyntax.FieldPos(p)
		if !pos.IsValid() {
			pos = h.Pos
		}
		msg := fmt.Sprintf("values key %s: %s reads no such key (not in its values.yaml, its subcharts' or its templates)", strings.Join(p, "."), name)
		if near := k.nearest(p); near != "" {
			msg += "; the nearest is " + near
		}
		diags = append(diags, spec.Diagnostic{Pos: pos, Severity: sev, Message: msg})
	}
	return diags
}

// schemaErrors validates values against ch's values.schema.json and each
// subchart's against its own; at is the path of ch's values in the
// entry's.
func schemaErrors(ch *chart.Chart, h *spec.Helm, values map[string]any, at []string) spec.Diagnostics {
	var diags spec.Diagnostics
	if ch.Schema != nil {
		for _, e := range validateSchema(ch.Schema, values) {
			p := append(slices.Clone(at), e.path...)
			pos, _ := h.ValuesSyntax.FieldPos(p)
			if !pos.IsValid() {
				pos = h.Pos
			}
			where := "(values)"
			if len(p) > 0 {
				where = strings.Join(p, ".")
			}
			diags.Errorf(pos, "values %s: %s (values.schema.json of chart %s %s)", where, e.msg, ch.Name(), ch.Metadata.Version)
		}
	}
	for _, dep := range ch.Dependencies() {
		if sub, ok := values[dep.Name()].(map[string]any); ok {
			diags = append(diags, schemaErrors(dep, h, sub, append(slices.Clone(at), dep.Name()))...)
		}
	}
	return diags
}

type schemaError struct {
	path []string
	msg  string
}

// validateSchema returns the leaf errors of values against schemaJSON; a
// schema that does not compile is one error at the values' root.
func validateSchema(schemaJSON []byte, values map[string]any) []schemaError {
	fail := func(err error) []schemaError {
		return []schemaError{{msg: "the chart's values.schema.json: " + err.Error()}}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fail(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///values.schema.json", doc); err != nil {
		return fail(err)
	}
	sch, err := c.Compile("file:///values.schema.json")
	if err != nil {
		return fail(err)
	}
	b, err := json.Marshal(values)
	if err != nil {
		return fail(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fail(err)
	}
	var ve *jsonschema.ValidationError
	if err := sch.Validate(inst); !errors.As(err, &ve) {
		return nil
	}
	var out []schemaError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, schemaError{path: e.InstanceLocation, msg: e.ErrorKind.LocalizedString(english)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// english prints schema errors.
var english = message.NewPrinter(language.English)

// valuesRef finds the value paths templates read: .Values.a.b, $.Values.a.
var valuesRef = regexp.MustCompile(`\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)

// templateReads returns the value paths the templates of ch and its
// subcharts read, each under its subchart's key.
func templateReads(ch *chart.Chart, at []string) map[string]bool {
	out := map[string]bool{}
	for _, t := range ch.Templates {
		for _, m := range valuesRef.FindAllSubmatch(t.Data, -1) {
			p := append(slices.Clone(at), strings.Split(string(m[1][1:]), ".")...)
			out[strings.Join(p, ".")] = true
		}
	}
	for _, dep := range ch.Dependencies() {
		maps.Copy(out, templateReads(dep, append(slices.Clone(at), dep.Name())))
	}
	return out
}

// knownKeys decides which key paths a chart reads.
type knownKeys struct {
	defaults map[string]any
	read     map[string]bool
}

// unknown returns the key paths of values under at that the chart reads
// nowhere; below an unknown key, or a map the chart passes through whole,
// nothing more is reported.
func (k knownKeys) unknown(values map[string]any, at []string) [][]string {
	var out [][]string
	for _, key := range slices.Sorted(maps.Keys(values)) {
		p := append(slices.Clone(at), key)
		known, through := k.lookup(p)
		if !known {
			out = append(out, p)
			continue
		}
		if sub, ok := values[key].(map[string]any); ok && !through {
			out = append(out, k.unknown(sub, p)...)
		}
	}
	return out
}

// lookup says whether the chart reads p, and whether it passes what is
// below p through whole (an empty map or list by default, a scalar, or a
// key the templates read that the defaults do not hold).
func (k knownKeys) lookup(p []string) (known, through bool) {
	joined := strings.Join(p, ".")
	var cur any = k.defaults
	for i, key := range p {
		m, isMap := cur.(map[string]any)
		if !isMap {
			return true, true // below a scalar or list the chart takes whole
		}
		if len(m) == 0 && i > 0 {
			return true, true // below an empty map: podAnnotations: {}
		}
		v, ok := m[key]
		if !ok {
			return k.readBelow(p[:i+1], joined)
		}
		cur = v
	}
	if m, isMap := cur.(map[string]any); isMap && len(m) > 0 {
		return true, false
	}
	return true, true
}

// readBelow: p's first elements up to a missing default key; a template
// that reads joined or a prefix of it makes it known and passed through.
func (k knownKeys) readBelow(missing []string, joined string) (known, through bool) {
	for n := len(missing); n <= len(strings.Split(joined, ".")); n++ {
		prefix := strings.Join(strings.Split(joined, ".")[:n], ".")
		if k.read[prefix] {
			return true, true
		}
	}
	// A template may read a key deeper than the user wrote it.
	for r := range k.read {
		if strings.HasPrefix(r, joined+".") {
			return true, false
		}
	}
	return false, false
}

// nearest returns the known key path closest to p: the sibling of p's
// last key with the smallest edit distance, in the defaults or the keys
// templates read.
func (k knownKeys) nearest(p []string) string {
	parent := p[:len(p)-1]
	cands := map[string]bool{}
	var cur any = k.defaults
	for _, key := range parent {
		m, _ := cur.(map[string]any)
		cur = m[key]
	}
	if m, ok := cur.(map[string]any); ok {
		for key := range m {
			cands[key] = true
		}
	}
	prefix := strings.Join(parent, ".")
	for r := range k.read {
		rest, ok := strings.CutPrefix(r, prefix+".")
		if prefix == "" {
			rest, ok = r, true
		}
		if ok {
			cands[strings.Split(rest, ".")[0]] = true
		}
	}
	best, bestD := "", -1
	last := p[len(p)-1]
	for _, c := range slices.Sorted(maps.Keys(cands)) {
		if d := editDistance(strings.ToLower(last), strings.ToLower(c)); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(last)/2) {
		return ""
	}
	return strings.Join(append(slices.Clone(parent), best), ".")
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
