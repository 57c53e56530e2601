package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// enumFlag is a flag value that is one of a fixed set: a bad value is
// refused while the flags are parsed, as a usage error (exit 2), before
// the command runs (Timoni's internal/flags are the model).
type enumFlag struct {
	value   string
	allowed []string
}

// Set takes v if it is one of the allowed values.
func (f *enumFlag) Set(v string) error {
	if !slices.Contains(f.allowed, v) {
		return fmt.Errorf("use %s", orList(f.allowed))
	}
	f.value = v
	return nil
}

func (f *enumFlag) String() string { return f.value }

// Type is what --help shows the value as: a string, as before.
func (f *enumFlag) Type() string { return "string" }

// orList is "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// addOutputFlag adds -o with one command's set of formats, the first the
// default, and completes them; the flag refuses any other value.
func addOutputFlag(cmd *cobra.Command, usage string, formats ...string) *enumFlag {
	f := &enumFlag{value: formats[0], allowed: formats}
	cmd.Flags().VarP(f, "output", "o", usage)
	_ = cmd.RegisterFlagCompletionFunc("output", completeValues(formats...))
	return f
}

// liveLines reports whether a command draws live lines (a line per stack
// or per node, redrawn in place) on w rather than printing plain lines: w
// is a terminal, the logs are console lines (not --log-format json, not
// CI=true, where they default to JSON), and TERM is not dumb. Every
// command with live lines decides by this one rule.
func (g *globals) liveLines(w io.Writer) bool {
	return isTerminal(w) && g.logFormat == "console" && os.Getenv("CI") != "true" && os.Getenv("TERM") != "dumb"
}
