package printer

import (
	"fmt"
	"strings"
	"unicode"
)

// Clean makes s safe to print as part of one line of a log that a CI
// runner reads: every control character (newlines included) is written as
// a Go escape, and a leading "::", which GitHub Actions would obey as a
// workflow command, is broken up. Spec content reaches messages (names,
// values, YAML errors), so every message goes through it.
func Clean(s string) string {
	return neutralize(escapeControls(s, false))
}

// CleanLines is Clean for text of several lines: newlines stay, and no line
// may start (after blanks) with "::".
func CleanLines(s string) string {
	lines := strings.Split(escapeControls(s, true), "\n")
	for i, l := range lines {
		lines[i] = neutralize(l)
	}
	return strings.Join(lines, "\n")
}

// escapeControls writes control characters, line and paragraph
// separators and bidirectional overrides as Go escapes; keepNewlines
// leaves \n (and tabs, which layouts use) alone.
func escapeControls(s string, keepNewlines bool) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case keepNewlines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == unicode.ReplacementChar:
			b.WriteRune(r)
		case needsEscape(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// neutralize breaks up a workflow command at the start of a line: the
// runner trims leading blanks, then obeys a line starting with "::".
func neutralize(line string) string {
	trimmed := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(trimmed, "::") {
		return line
	}
	return line[:len(line)-len(trimmed)] + `\x3a` + trimmed[1:]
}
