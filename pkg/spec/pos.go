package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a spec or manifest file. Line and Column are 1-based; a
// zero Line means the whole file.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

// String formats p as file:line:col, or just file without a line.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// IsValid reports whether p names a file.
func (p Pos) IsValid() bool { return p.File != "" }

func (p Pos) less(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Column < q.Column
}

// Severity says whether a Diagnostic fails the command.
type Severity string

// The severities. Warnings are reported but never fail vet.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found in a spec tree.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

// Diagnostics is every problem found in one run.
type Diagnostics []Diagnostic

func (d *Diagnostics) errorf(p Pos, format string, args ...any) {
	*d = append(*d, Diagnostic{Pos: p, Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

// Errorf appends an error at p. Packages that check rendered objects use it.
func (d *Diagnostics) Errorf(p Pos, format string, args ...any) { d.errorf(p, format, args...) }

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Count returns the number of errors and warnings.
func (d Diagnostics) Count() (errs, warns int) {
	for _, x := range d {
		if x.Severity == SeverityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// Sorted returns the diagnostics ordered by file, line, column and message,
// without repeats (per-environment fan-out can find one problem twice).
func (d Diagnostics) Sorted() Diagnostics {
	out := make(Diagnostics, len(d))
	copy(out, d)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pos != b.Pos {
			return a.Pos.less(b.Pos)
		}
		if a.Severity != b.Severity {
			return a.Severity == SeverityError
		}
		return a.Message < b.Message
	})
	uniq := out[:0]
	for i, x := range out {
		if i > 0 && x == out[i-1] {
			continue
		}
		uniq = append(uniq, x)
	}
	return uniq
}

// Err returns nil when there is no error, else an *InvalidError carrying
// every diagnostic.
func (d Diagnostics) Err() error {
	if !d.HasErrors() {
		return nil
	}
	return &InvalidError{Diagnostics: d.Sorted()}
}

// InvalidError is returned when a spec tree does not validate. The CLI maps
// it to exit code 1 and prints each diagnostic on its own line.
type InvalidError struct {
	Diagnostics Diagnostics
}

func (e *InvalidError) Error() string {
	errs, _ := e.Diagnostics.Count()
	var b strings.Builder
	fmt.Fprintf(&b, "invalid specs: %d error(s)", errs)
	for _, x := range e.Diagnostics {
		if x.Severity == SeverityError {
			fmt.Fprintf(&b, "\n%s: %s", x.Pos, x.Message)
		}
	}
	return b.String()
}
