package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/sync/errgroup"

	"kcloud.dev/kcloud/pkg/change"
	"kcloud.dev/kcloud/pkg/diff"
)

// MarkdownLimit is GitHub's comment size with room to spare: a markdown diff
// is cut to fit it.
const MarkdownLimit = 60000

// DiffOptions say how to print a diff.
type DiffOptions struct {
	// Format is text, markdown or json.
	Format string
	// Color colours text output (a terminal only).
	Color bool
	// Limit caps markdown output; default MarkdownLimit.
	Limit int
	// DetailsURL is where the whole diff is (a CI artifact): a cut markdown
	// diff links to it.
	DetailsURL string
	// WithDiff puts each object's unified diff into json output; without
	// it the diffs are not rendered at all.
	WithDiff bool
}

// DiffRecord is one object in -o json output.
type DiffRecord struct {
	Stack      string `json:"stack"`
	Action     string `json:"action"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Component  string `json:"component,omitempty"`
	Note       string `json:"note,omitempty"`
	// ClientSide: computed on the client, with no dry run (read-only).
	ClientSide bool `json:"clientSide,omitempty"`
	// Diff is the unified diff, with DiffOptions.WithDiff only.
	Diff string `json:"diff,omitempty"`
}

// clientSide labels a diff computed with no dry run.
const clientSide = "Computed client side (read-only: no dry run): the server's defaults and mutating admission are not in it."

// Diff prints a diff result.
func Diff(w io.Writer, res *diff.Result, opts DiffOptions) error {
	switch opts.Format {
	case "", "text":
		return diffText(w, res, opts.Color)
	case "markdown":
		limit := opts.Limit
		if limit <= 0 {
			limit = MarkdownLimit
		}
		md, err := diffMarkdown(res, limit, opts.DetailsURL)
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, md)
		return err
	case "json":
		return diffJSON(w, res, opts.WithDiff)
	default:
		return fmt.Errorf("output format %q: use text, markdown or json", opts.Format)
	}
}

// diffJSON prints the records; the diffs only when withDiff.
func diffJSON(w io.Writer, res *diff.Result, withDiff bool) error {
	var texts []string
	if withDiff {
		err := inChunks(res.Changes, diffTextChunk, diff.Change.Text, func(_ []diff.Change, t []string) error {
			texts = append(texts, t...)
			return nil
		})
		if err != nil {
			return err
		}
	}
	recs := make([]DiffRecord, 0, len(res.Changes))
	for i, c := range res.Changes {
		r := DiffRecord{
			Stack: c.Stack, Action: string(c.Action), APIVersion: c.APIVersion(), Kind: c.Ref.GroupKind.Kind,
			Namespace: c.Ref.Namespace, Name: c.Ref.Name, Component: c.Component, Note: c.Note, ClientSide: c.ClientSide,
		}
		if withDiff {
			r.Diff = texts[i]
		}
		recs = append(recs, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(recs)
}

const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

var actionSign = map[change.Action]string{change.Create: "+", change.Update: "~", change.Delete: "-", change.Detach: "!"}

func diffText(w io.Writer, res *diff.Result, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + reset
	}
	group := ""
	err := inChunks(byComponent(res.Changes), diffTextChunk, diff.Change.Text, func(chunk []diff.Change, texts []string) error {
		var b strings.Builder
		for i, c := range chunk {
			if g := c.Stack + "\x00" + c.Component; c.Component != "" && g != group {
				group = g
				fmt.Fprintln(&b, paint(bold, fmt.Sprintf("component %s (%s):", c.Component, c.Stack)))
			}
			head := fmt.Sprintf("%s %s %s (%s)", actionSign[c.Action], c.Action, c.Ref.String(), c.Stack)
			fmt.Fprintln(&b, paint(bold, head))
			if c.Note != "" {
				fmt.Fprintln(&b, paint(yellow, "  # "+c.Note))
			}
			writeDiffLines(&b, texts[i], paint)
			b.WriteString("\n")
		}
		out := b.String()
		if !color {
			// Object content reaches these lines: no line may become a
			// workflow command in a CI log.
			out = CleanLines(out)
		}
		_, err := io.WriteString(w, out)
		return err
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tCREATE\tUPDATE\tDELETE\tDETACH\tUNCHANGED")
	var tot change.Summary
	for _, s := range res.Summary() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", s.Stack, s.Create, s.Update, s.Delete, s.Detach, s.Unchanged)
		tot.Add(s)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w, totals(tot)); err != nil {
		return err
	}
	if res.ClientSide {
		_, err := fmt.Fprintln(w, clientSide)
		return err
	}
	return nil
}

// writeDiffLines writes a unified diff's lines, painted by kind.
func writeDiffLines(b *strings.Builder, text string, paint func(code, s string) string) {
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
			b.WriteString(paint(bold, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "+"):
			b.WriteString(paint(green, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "-"):
			b.WriteString(paint(red, strings.TrimSuffix(line, "\n")) + "\n")
		case strings.HasPrefix(line, "@@"):
			b.WriteString(paint(cyan, strings.TrimSuffix(line, "\n")) + "\n")
		default:
			b.WriteString(line)
		}
	}
}

// diffTextChunk is how many changes diffText renders at a time: their
// unified diffs in parallel (each is CPU alone: two YAML documents and a
// diff), written before the next chunk, so that a diff of thousands of
// changed objects holds one chunk's text, not all of it.
const diffTextChunk = 256

// inChunks makes the text of each item on every CPU, a chunk of size
// items at a time, and hands each chunk's texts to emit in order before
// the next chunk is made: output in item order that holds one chunk's
// text, never all of it.
func inChunks[T any](items []T, size int, text func(T) (string, error), emit func(chunk []T, texts []string) error) error {
	for start := 0; start < len(items); start += size {
		chunk := items[start:min(start+size, len(items))]
		texts := make([]string, len(chunk))
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i, it := range chunk {
			g.Go(func() error {
				var err error
				texts[i], err = text(it)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if err := emit(chunk, texts); err != nil {
			return err
		}
	}
	return nil
}

// byComponent returns the changes that change something, grouped by
// stack (in plan order) and component, in plan order within a group: what
// a chart bump does reads as one block under its component.
func byComponent(changes []diff.Change) []diff.Change {
	stackAt := map[string]int{}
	var out []diff.Change
	for _, c := range changes {
		if _, ok := stackAt[c.Stack]; !ok {
			stackAt[c.Stack] = len(stackAt)
		}
		if c.Changed() {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b diff.Change) int {
		if d := stackAt[a.Stack] - stackAt[b.Stack]; d != 0 {
			return d
		}
		return strings.Compare(a.Component, b.Component)
	})
	return out
}

func totals(t change.Summary) string {
	if t.Changes() == 0 {
		return fmt.Sprintf("No changes (%d objects unchanged).", t.Unchanged)
	}
	return fmt.Sprintf("%d to create, %d to update, %d to delete, %d to detach, %d unchanged.",
		t.Create, t.Update, t.Delete, t.Detach, t.Unchanged)
}

func diffMarkdown(res *diff.Result, limit int, details string) (string, error) {
	var head strings.Builder
	head.WriteString("### kcloud diff\n\n")
	head.WriteString("| stack | create | update | delete | detach | unchanged |\n|---|---:|---:|---:|---:|---:|\n")
	var tot change.Summary
	for _, s := range res.Summary() {
		fmt.Fprintf(&head, "| `%s` | %d | %d | %d | %d | %d |\n", s.Stack, s.Create, s.Update, s.Delete, s.Detach, s.Unchanged)
		tot.Add(s)
	}
	fmt.Fprintf(&head, "\n%s\n\n", totals(tot))
	if res.ClientSide {
		fmt.Fprintf(&head, "> %s\n\n", clientSide)
	}

	var changed []diff.Change
	var refs []string
	for _, c := range res.Changes {
		if c.Changed() {
			changed = append(changed, c)
			refs = append(refs, fmt.Sprintf("%s (%s)", c.Ref.String(), c.Stack))
		}
	}
	out := head.String()
	// Each section is rendered only when it is reached: a cut diff renders
	// no more than it shows.
	for i, c := range changed {
		s, err := mdSection(c)
		if err != nil {
			return "", err
		}
		// Leave room for the note naming what would be cut after s.
		if len(out)+len(s)+cutNoteRoom(refs[i+1:], limit, details) > limit {
			return out + cutNote(refs[i:], limit, details), nil
		}
		out += s
	}
	return out, nil
}

// mdSection is one changed object's collapsible section.
func mdSection(c diff.Change) (string, error) {
	text, err := c.Text()
	if err != nil {
		return "", err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "<details><summary><code>%s</code> %s <sub>%s</sub></summary>\n\n", c.Action, mdEscape(c.Ref.String()), c.Stack)
	if c.Note != "" {
		fmt.Fprintf(&s, "_%s_\n\n", mdEscape(c.Note))
	}
	if text != "" {
		fence := "```"
		for strings.Contains(text, fence) {
			fence += "`"
		}
		fmt.Fprintf(&s, "%sdiff\n%s%s\n\n", fence, text, fence)
	}
	s.WriteString("</details>\n")
	return s.String(), nil
}

const maxCutNames = 20

func cutNoteRoom(refs []string, limit int, details string) int {
	if len(refs) == 0 {
		return 0
	}
	return len(cutNote(refs, limit, details))
}

func cutNote(refs []string, limit int, details string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n> **Cut:** this comment is capped at %d characters; %d more changed object(s) are not shown:", limit, len(refs))
	for i, r := range refs {
		if i == maxCutNames {
			fmt.Fprintf(&b, " and %d more", len(refs)-maxCutNames)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + mdEscape(r))
	}
	if details != "" {
		fmt.Fprintf(&b, ". The whole diff: %s\n", details)
	} else {
		b.WriteString(". Run `kcloud diff` for the whole diff.\n")
	}
	return b.String()
}

func mdEscape(s string) string {
	r := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;", "_", "\\_", "*", "\\*")
	return r.Replace(s)
}
