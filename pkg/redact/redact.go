package redact

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Mask is what a Secret value is shown as.
const Mask = "***"

// MaskChanged is what a changed Secret value is shown as in the planned
// object.
const MaskChanged = "*** (changed)"

// MinRedactLen is the shortest Secret value the Redactor replaces wherever
// it occurs in free text. Shorter ones would mangle ordinary words: they
// are masked by structure instead (a field, a YAML or env line, a quoted
// or key=value token whose whole value is the secret).
const MinRedactLen = 4

// Redactor hides known secret values: in objects by structure (Mask) and
// in free text, such as error messages and log lines (String). It learns
// the values of the Secrets of a plan and any value added to it.
type Redactor struct {
	mu sync.RWMutex
	// exact holds every value (any length) and its base64 form: a field
	// whose whole value is one of them is masked.
	exact map[string]bool
	// short holds values under MinRedactLen, masked in free text only
	// where they stand as a whole token in a value position.
	short []*regexp.Regexp
	// forms are the free-text forms of every long value (formsOf), and
	// prefixes their first MinRedactLen bytes: a text none of whose
	// windows is a prefix holds no form, and is left as it is without the
	// replacer. r replaces every form; stale says forms were added since it
	// was built. It is rebuilt only when a text may hold one: a diff masks
	// thousands of Secrets, each adding values, and rebuilding on each
	// addition made it quadratic.
	forms    map[string]bool
	prefixes map[string]bool
	r        *strings.Replacer
	stale    bool
}

// NewRedactor returns a Redactor for the Secrets among objs.
func NewRedactor(objs []*unstructured.Unstructured) *Redactor {
	r := &Redactor{}
	r.Add(objs...)
	return r
}

// Add learns the values of the Secrets among objs.
func (r *Redactor) Add(objs ...*unstructured.Unstructured) {
	var vals []string
	for _, obj := range objs {
		if !IsSecret(obj) {
			continue
		}
		for _, b64 := range secretValues(obj) {
			if dec, err := base64.StdEncoding.DecodeString(b64); err == nil {
				vals = append(vals, string(dec))
			} else {
				vals = append(vals, b64)
			}
		}
	}
	r.AddValues(vals...)
}

// AddValues learns secret values: decrypted values, and values derived
// from them. Empty values are ignored.
func (r *Redactor) AddValues(vals ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exact == nil {
		r.exact, r.forms, r.prefixes = map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	for _, v := range vals {
		if v == "" || r.exact[v] {
			continue
		}
		for _, e := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
			r.exact[e] = true
			if len(e) < MinRedactLen {
				continue
			}
			for _, f := range formsOf(e) {
				if !r.forms[f] {
					r.forms[f], r.prefixes[f[:MinRedactLen]], r.stale = true, true, true
				}
			}
		}
		if len(v) < MinRedactLen {
			r.short = append(r.short, shortPattern(v))
		}
	}
}

// mayHold reports whether s may hold the form of a long value: whether
// one of its windows of MinRedactLen bytes is a form's prefix.
func (r *Redactor) mayHold(s string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.prefixes) == 0 {
		return false
	}
	for i := 0; i+MinRedactLen <= len(s); i++ {
		if r.prefixes[s[i:i+MinRedactLen]] {
			return true
		}
	}
	return false
}

// replacer returns the free-text replacer, rebuilt first when values were
// added since it was built.
func (r *Redactor) replacer() *strings.Replacer {
	r.mu.RLock()
	rep, stale := r.r, r.stale
	r.mu.RUnlock()
	if !stale {
		return rep
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stale {
		r.rebuild()
		r.stale = false
	}
	return r.r
}

// formsOf is every form of a long value v that free text may hold: v,
// its lines, and their base64 and escaped forms (JSON, Go %q, GitHub
// annotations); those shorter than MinRedactLen are left out.
func formsOf(v string) []string {
	var out []string
	add := func(s string) {
		if len(s) >= MinRedactLen {
			out = append(out, s)
		}
	}
	for _, s := range append([]string{v}, strings.Split(v, "\n")...) {
		s = strings.TrimSpace(s)
		add(s)
		add(base64.StdEncoding.EncodeToString([]byte(s)))
		add(base64.RawStdEncoding.EncodeToString([]byte(s)))
		add(base64.URLEncoding.EncodeToString([]byte(s)))
		add(jsonEscaped(s))
		add(strconv.Quote(s)[1 : len(strconv.Quote(s))-1])
		add(jsonEscaped(jsonEscaped(s)))
		add(ghData.Replace(s))
		add(ghProperty.Replace(s))
	}
	add(v)
	return out
}

// rebuild makes the free-text replacer of every form, longest first.
func (r *Redactor) rebuild() {
	forms := make([]string, 0, len(r.forms))
	for f := range r.forms {
		forms = append(forms, f)
	}
	sort.Slice(forms, func(i, j int) bool {
		if len(forms[i]) != len(forms[j]) {
			return len(forms[i]) > len(forms[j])
		}
		return forms[i] < forms[j]
	})
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Mask)
	}
	r.r = strings.NewReplacer(pairs...)
}

// ghData and ghProperty are GitHub Actions' workflow command escaping, as
// printer writes annotations: a value holding "%" or ":" appears so
// (https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts,
// escapeData and escapeProperty).
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// jsonEscaped is s as it appears inside a JSON string.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// shortPattern matches a short value standing as a whole value: quoted,
// or after ": ", "=" or ":", up to a delimiter or the end of the line.
func shortPattern(v string) *regexp.Regexp {
	q := regexp.QuoteMeta(v)
	return regexp.MustCompile(`(["'` + "`" + `]|[:=]\s*)` + q + `(["'` + "`" + `,;}\])\s]|$)`)
}

// Values returns how many values the Redactor knows (for tests and
// diagnostics; never the values).
func (r *Redactor) Values() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.exact) / 2
}

// String returns s with every known secret value replaced by Mask: long
// values wherever they occur, short ones where they stand as a whole
// value.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	if r.mayHold(s) {
		s = r.replacer().Replace(s)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.short {
		if p.MatchString(s) {
			s = replaceShort(p, s)
		}
	}
	return s
}

// replaceShort masks every match of a short value's pattern, keeping the
// delimiters around it. Overlapping matches ("a,a") are found again.
func replaceShort(p *regexp.Regexp, s string) string {
	for range 8 {
		out := p.ReplaceAllString(s, "${1}"+Mask+"${2}")
		if out == s {
			break
		}
		s = out
	}
	return s
}

// isSecret reports whether v is a known value.
func (r *Redactor) isSecret(v string) bool {
	if r == nil || v == "" {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.exact[v]
}

// Error returns err with its message redacted, or nil.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if red := r.String(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer returns a writer that redacts each write before passing it to w.
// Writes are expected to be whole lines (zerolog writes one per event, the
// printers whole lines or documents). It has w's Fd, so a terminal stays
// one.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Fd is the file descriptor of the underlying writer, or an invalid one.
func (rw *redactWriter) Fd() uintptr {
	if f, ok := rw.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
