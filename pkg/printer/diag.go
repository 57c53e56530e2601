package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"kcloud.dev/kcloud/pkg/spec"
)

// DiagOptions say how to print diagnostics.
type DiagOptions struct {
	// Format is "text" (GNU style, file:line:col: message) or "json".
	Format string
	// WorkDir makes file paths relative to it; empty keeps them as they are.
	WorkDir string
	// GitHub also writes GitHub Actions annotations (::error file=…::…).
	GitHub bool
}

// Diagnostics writes diags, one per line in text form.
func Diagnostics(w io.Writer, diags spec.Diagnostics, opts DiagOptions) error {
	if opts.Format == "json" {
		return diagnosticsJSON(w, diags, opts)
	}
	for _, d := range diags {
		p := relPos(d.Pos, opts.WorkDir)
		prefix := ""
		if d.Severity == spec.SeverityWarning {
			prefix = "warning: "
		}
		if _, err := fmt.Fprintf(w, "%s: %s%s\n", Clean(p.String()), prefix, Clean(d.Message)); err != nil {
			return err
		}
	}
	if opts.GitHub {
		return Annotations(w, diags, opts.WorkDir)
	}
	return nil
}

// Annotations writes diags as GitHub Actions workflow commands, which show
// up on the pull request's changed lines.
func Annotations(w io.Writer, diags spec.Diagnostics, workDir string) error {
	for _, d := range diags {
		p := relPos(d.Pos, workDir)
		level := "error"
		if d.Severity == spec.SeverityWarning {
			level = "warning"
		}
		props := "file=" + escapeProperty(p.File)
		if p.Line > 0 {
			props += fmt.Sprintf(",line=%d,col=%d", p.Line, p.Column)
		}
		if _, err := fmt.Fprintf(w, "::%s %s::%s\n", level, props, escapeData(Clean(d.Message))); err != nil {
			return err
		}
	}
	return nil
}

type jsonDiag struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func diagnosticsJSON(w io.Writer, diags spec.Diagnostics, opts DiagOptions) error {
	errs, warns := diags.Count()
	out := struct {
		Valid       bool       `json:"valid"`
		Errors      int        `json:"errors"`
		Warnings    int        `json:"warnings"`
		Diagnostics []jsonDiag `json:"diagnostics"`
	}{Valid: errs == 0, Errors: errs, Warnings: warns, Diagnostics: []jsonDiag{}}
	for _, d := range diags {
		p := relPos(d.Pos, opts.WorkDir)
		out.Diagnostics = append(out.Diagnostics, jsonDiag{File: p.File, Line: p.Line, Column: p.Column, Severity: string(d.Severity), Message: d.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// relPos shows a path relative to workDir when it lies below it.
func relPos(p spec.Pos, workDir string) spec.Pos {
	if workDir == "" || p.File == "" || strings.Contains(p.File, "://") {
		return p
	}
	abs := p.File
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(workDir, abs)
	}
	if rel, err := filepath.Rel(workDir, abs); err == nil && !strings.HasPrefix(rel, "..") {
		p.File = rel
	}
	return p
}

// GitHub workflow command escaping, as the runner unescapes them
// (actions/toolkit packages/core/src/command.ts, escapeData and
// escapeProperty: https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
