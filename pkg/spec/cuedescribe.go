package spec

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
)

// show renders a data value briefly for a message.
func show(v cue.Value) string {
	switch v.Kind() {
	case cue.StructKind:
		return "a mapping"
	case cue.ListKind:
		return "a list"
	case cue.BottomKind:
		return "the value"
	}
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func kindName(v cue.Value) string {
	switch v.Kind() {
	case cue.StringKind:
		return "a string"
	case cue.IntKind:
		return "an integer"
	case cue.FloatKind, cue.NumberKind:
		return "a number"
	case cue.BoolKind:
		return "a boolean"
	case cue.StructKind:
		return "a mapping"
	case cue.ListKind:
		return "a list"
	case cue.NullKind:
		return "null"
	}
	return v.Kind().String()
}

// patternWords says in words what the schema's common patterns require;
// other patterns are shown as they are.
var patternWords = map[string]string{
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`:                                   "is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a letter or digit",
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`: "is not a DNS name: use lowercase letters, digits, '-' and '.'",
	`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`:               "is not a storage quantity such as 20Gi",
	`^https://`:            "must start with https://",
	`^[0-9a-f]{64}$`:       "is not a sha256 checksum (64 lowercase hex digits)",
	`^(https|http|oci)://`: "must be an https://, http:// or oci:// URL",
}

// describePattern explains a failed =~"…" bound.
func describePattern(bound string) string {
	re := unquote(strings.TrimPrefix(bound, "=~"))
	if words, ok := patternWords[re]; ok {
		return words
	}
	return "does not match " + re
}

// describeType names a schema type from CUE's rendering of it.
func describeType(s string) string {
	switch {
	case s == "string":
		return "a string"
	case s == "int":
		return "an integer"
	case s == "bool":
		return "a boolean (true or false)"
	case s == "number", s == "float":
		return "a number"
	case strings.HasPrefix(s, "["), s == "list":
		return "a list"
	case strings.HasPrefix(s, "{"), s == "struct":
		if fields := structFields(s); fields != "" {
			return "a mapping with " + fields
		}
		return "a mapping"
	case strings.HasPrefix(s, "=~"):
		return "a string matching " + strings.TrimPrefix(s, "=~")
	}
	return unquote(s)
}

// structFields pulls the top-level field names out of a rendered struct
// such as {url:=~"^https://",sha256:=~"…"}.
func structFields(s string) string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	var names []string
	depth := 0
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case ':':
			if depth == 0 && start >= 0 {
				names = append(names, strings.TrimRight(strings.TrimSpace(s[start:i]), "?!"))
				start = -1
			}
		case ',':
			if depth == 0 {
				start = i + 1
			}
		}
	}
	return strings.Join(names, " and ")
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}
