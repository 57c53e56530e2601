package printer

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"kcloud.dev/kcloud/pkg/apply"
	"kcloud.dev/kcloud/pkg/change"
)

// LogEvent writes one apply event as a log line: console lines for people,
// JSON lines for CI, as the logger is set up. Waits that succeed are debug
// lines.
func LogEvent(log zerolog.Logger, e apply.Event) {
	var ev *zerolog.Event
	switch {
	case e.Err != nil || e.Outcome == apply.Failed || e.Outcome == apply.Timeout:
		ev = log.Error()
	case e.Type == apply.Warning || e.Action == change.Detach || e.Outcome == apply.Skipped:
		ev = log.Warn()
	case e.Op == apply.OpWait || e.Action == change.Unchanged:
		ev = log.Debug()
	default:
		ev = log.Info()
	}
	if e.Stack != "" {
		ev = ev.Str("stack", e.Stack)
	}
	if e.Err != nil {
		ev = ev.Str("error", e.Err.Error())
	}
	switch e.Type {
	case apply.StackStarted:
		ev.Str("event", string(e.Type)).Msgf("stack %s: %s", e.Stack, e.Message)
	case apply.StackFinished:
		s := e.Summary
		ev.Str("event", string(e.Type)).Int("created", s.Create).Int("configured", s.Update).Int("unchanged", s.Unchanged).
			Int("deleted", s.Delete).Int("detached", s.Detach).Int("failed", s.Failed).Int("unhealthy", s.Unhealthy).
			Dur("duration", s.Duration).Msgf("stack %s: %s", e.Stack, stackLine(*s))
	default:
		ev = ev.Str("event", string(e.Type))
		if e.Object.Name != "" {
			ev = ev.Str("kind", e.Object.GroupKind.Kind).Str("name", e.Object.Name)
			if e.Object.GroupKind.Group != "" {
				ev = ev.Str("group", e.Object.GroupKind.Group)
			}
			if e.Object.Namespace != "" {
				ev = ev.Str("namespace", e.Object.Namespace)
			}
		}
		if e.Op != "" {
			ev = ev.Str("op", string(e.Op))
		}
		status := ""
		if e.Outcome != "" {
			status = e.Status()
			ev = ev.Str("status", status)
		}
		msg := e.Object.String()
		if e.Object.Name == "" {
			msg = ""
		}
		if status != "" {
			msg += " " + status
		}
		if e.Message != "" && msg != "" {
			msg += ": " + e.Message
		} else if e.Message != "" {
			msg = e.Message
		}
		ev.Msg(msg)
	}
}

func stackLine(s change.Summary) string {
	line := fmt.Sprintf("%d created, %d configured, %d unchanged, %d deleted, %d detached", s.Create, s.Update, s.Unchanged, s.Delete, s.Detach)
	if s.Failed > 0 {
		line += fmt.Sprintf(", %d failed", s.Failed)
	}
	if s.Unhealthy > 0 {
		line += fmt.Sprintf(", %d unhealthy", s.Unhealthy)
	}
	if s.NoOp {
		line += " (no changes)"
	}
	return line
}

// ApplySummary writes the final summary of an apply or destroy: one row
// per stack, then what was detached.
func ApplySummary(w io.Writer, res *apply.Result) error {
	if res == nil || len(res.Stacks) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	title := "STACK\tCREATED\tCONFIGURED\tUNCHANGED\tDELETED\tDETACHED\tFAILED\tUNHEALTHY\tTIME"
	if res.DryRun {
		fmt.Fprintln(tw, "(dry run: nothing was changed)")
	}
	fmt.Fprintln(tw, title)
	for _, s := range res.Stacks {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Stack, s.Create, s.Update, s.Unchanged, s.Delete, s.Detach, s.Failed, s.Unhealthy, s.Duration.Round(1e7))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(res.Detached) > 0 {
		fmt.Fprintf(w, "\nDetached (left in the cluster, no longer managed; 'apply --allow-data-loss' deletes them):\n")
		for _, r := range res.Detached {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	return nil
}
