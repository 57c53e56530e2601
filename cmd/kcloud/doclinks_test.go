package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks checks every relative link of README.md, ARCHITECTURE.md and
// docs/: the file it points to exists, and so does the heading its #anchor
// names (GitHub's anchors). A page that moves or a heading that is renamed
// fails here instead of leaving a dead link.
func TestDocLinks(t *testing.T) {
	root := repoRoot(t)
	pages := []string{"README.md", "ARCHITECTURE.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := filepath.Glob(filepath.Join(root, "docs", "commands", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(docs, cmds...) {
		rel, _ := filepath.Rel(root, p)
		pages = append(pages, filepath.ToSlash(rel))
	}
	if len(pages) < 12 {
		t.Fatalf("found only %d pages", len(pages))
	}
	for _, page := range pages {
		src, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range markdownLinks(string(src)) {
			if err := checkLink(root, page, target); err != "" {
				t.Errorf("%s: link %s: %s", page, target, err)
			}
		}
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// markdownLinks returns the targets of the inline links outside code.
func markdownLinks(src string) []string {
	var out []string
	for _, line := range outsideFences(src) {
		for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

func outsideFences(src string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

// checkLink says what is wrong with a link of page, or "".
func checkLink(root, page, target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return ""
	}
	file, anchor, _ := strings.Cut(target, "#")
	path := filepath.Join(root, filepath.FromSlash(page))
	if file != "" {
		path = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
		if _, err := os.Stat(path); err != nil {
			return "no such file"
		}
	}
	if anchor == "" || !strings.HasSuffix(path, ".md") {
		return ""
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	for _, a := range anchors(string(src)) {
		if a == anchor {
			return ""
		}
	}
	return "no heading with that anchor"
}

// anchors returns the anchors GitHub gives a page's headings: lower case,
// punctuation dropped, spaces as hyphens, repeats numbered.
func anchors(src string) []string {
	seen := map[string]int{}
	var out []string
	for _, line := range outsideFences(src) {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(line, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(title) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out = append(out, a+"-"+strconv.Itoa(n))
		} else {
			out = append(out, a)
		}
		seen[a]++
	}
	return out
}

// TestReadmeIsAnIndex keeps README.md short (at most 200 lines: reference
// text belongs in docs/) and linked to every docs page, ARCHITECTURE.md and
// the command reference.
func TestReadmeIsAnIndex(t *testing.T) {
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), "\n"); n > 200 {
		t.Errorf("README.md has %d lines, more than 200: move reference text to a page under docs/ and link it", n)
	}
	links := map[string]bool{}
	for _, l := range markdownLinks(string(src)) {
		file, _, _ := strings.Cut(l, "#")
		links[file] = true
	}
	want := []string{"ARCHITECTURE.md", "docs/commands/kcloud.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range docs {
		want = append(want, "docs/"+filepath.Base(p))
	}
	for _, w := range want {
		if !links[w] {
			t.Errorf("README.md does not link %s: add it to the table under \"## Documentation\"", w)
		}
	}
}
