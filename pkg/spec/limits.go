package spec

import (
	"bytes"
	"errors"
	"io"

	yaml3 "go.yaml.in/yaml/v3"
)

// Limits on the work one file may cost. The YAML decoder CUE uses expands
// every alias into a copy and its evaluation costs tens of microseconds a
// node, so both are bounded before any decoding: a file under MaxFileSize
// is vetted, or refused, in well under two seconds.
const (
	// MaxTokens bounds the lines plus commas of a file: every YAML node
	// needs one or the other, so it bounds the nodes before parsing.
	MaxTokens = 100_000
	// MaxNodes is the most YAML nodes (scalars, mappings, sequences) a
	// file may hold, aliases counted as often as they are used.
	MaxNodes = 50_000
	// MaxElements is the most items of one sequence or keys of one
	// mapping: CUE's evaluation time grows faster than linearly with it.
	MaxElements = 1_000
	// MaxExpandedSize is the most bytes of scalars and keys a file may
	// hold once its aliases are expanded.
	MaxExpandedSize = 16 << 20
)

// precheck bounds a file's cost before it is decoded. It returns where a
// limit is crossed, and which, or an invalid Pos.
func precheck(file string, src []byte) (Pos, string) {
	tokens, line := 0, 1
	for _, b := range src {
		switch b {
		case '\n':
			line++
			tokens++
		case ',':
			tokens++
		}
		if tokens > MaxTokens {
			return Pos{File: file, Line: line, Column: 1}, "file has more than 100000 lines and commas; split it"
		}
	}
	if !bytes.Contains(src, []byte("&")) {
		return Pos{}, "" // no anchors, so no aliases to expand
	}
	return expansion(file, src)
}

// expansion measures the documents with their aliases expanded, on
// yaml.v3's node tree, which keeps aliases as references.
func expansion(file string, src []byte) (Pos, string) {
	dec := yaml3.NewDecoder(bytes.NewReader(src))
	m := &measure{sizes: map[*yaml3.Node][2]int{}}
	for {
		var doc yaml3.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return Pos{}, ""
		}
		if err != nil {
			return Pos{}, "" // the CUE decoder reports syntax errors
		}
		nodes, size := m.of(&doc, 0)
		m.nodes += nodes
		m.bytes += size
		if m.nodes > MaxNodes {
			return m.where(file, &doc), "file has more than 50000 YAML nodes (aliases counted expanded); split it"
		}
		if m.bytes > MaxExpandedSize {
			return m.where(file, &doc), "file expands to more than 16 MiB of values (aliases counted expanded)"
		}
	}
}

type measure struct {
	sizes        map[*yaml3.Node][2]int
	nodes, bytes int
	// worst is the alias that expands to the most, reported as the cause.
	worst     *yaml3.Node
	worstSize int
}

// of returns the expanded node count and bytes of n, memoised so that a
// chain of aliases is measured in linear time; depth stops cycles.
func (m *measure) of(n *yaml3.Node, depth int) (int, int) {
	if s, ok := m.sizes[n]; ok {
		return s[0], s[1]
	}
	if depth > MaxDepth {
		return MaxNodes + 1, 0
	}
	nodes, size := 1, len(n.Value)
	if n.Kind == yaml3.AliasNode && n.Alias != nil {
		nodes, size = m.of(n.Alias, depth+1)
		if size > m.worstSize {
			m.worst, m.worstSize = n, size
		}
	}
	for _, c := range n.Content {
		cn, cs := m.of(c, depth+1)
		nodes, size = min(nodes+cn, MaxNodes+1), min(size+cs, MaxExpandedSize+1)
	}
	m.sizes[n] = [2]int{nodes, size}
	return nodes, size
}

func (m *measure) where(file string, doc *yaml3.Node) Pos {
	n := doc
	if m.worst != nil {
		n = m.worst
	}
	return Pos{File: file, Line: max(n.Line, 1), Column: max(n.Column, 1)}
}
