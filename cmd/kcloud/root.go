package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/redact"
)

// Exit codes shared by every command; diff uses 1 for "changes".
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitDiffErr = 2
)

// exitError carries a command's exit code. A nil err means the command has
// already said everything it needs to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so the command exits with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// globals are the flags every command shares.
type globals struct {
	kubeconfig string
	context    string
	logLevel   string
	logFormat  string
	// manifestCache is --manifest-cache: the pinned URL manifest cache.
	manifestCache string
	// apiAttempts is --api-attempts: how often a request that failed
	// transiently is sent at most.
	apiAttempts int
	// contextSet and allowOtherServer say the cluster was chosen on
	// purpose: --context given, or --allow-other-server (the wrong-cluster
	// guard).
	contextSet, allowOtherServer bool

	// stdout and stderr write through red, which learns every value a
	// sops file decrypts to as it is decrypted, and the plan's Secret
	// values once it is rendered; log writes to stderr. All are built
	// once per run.
	stdout, stderr io.Writer
	log            zerolog.Logger
	red            *redact.Redactor
	// logOut is log's writer, for a command that draws live lines and
	// must have log lines written above them (g.log.Output).
	logOut io.Writer
}

// run executes kcloud with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{red: redact.NewRedactor(nil)}
	// Every stream goes through the redactor, which learns each secret
	// value as it is decrypted, before anything can quote it. Only
	// render --show-secrets prints to the bare stdout (cmd.OutOrStdout).
	g.stdout, g.stderr = g.red.Writer(stdout), g.red.Writer(stderr)
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(g.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "kcloud: %s\n", printer.CleanLines(g.red.String(ee.err.Error())))
		}
		return ee.code
	}
	// Cobra's own errors (unknown flag, wrong arguments) are usage errors.
	fmt.Fprintf(stderr, "kcloud: %s\n", printer.CleanLines(g.red.String(err.Error())))
	if isUsageError(err) {
		return exitUsage
	}
	return exitFailed
}

func isUsageError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown flag", "unknown shorthand", "unknown command", "accepts ", "requires ", "invalid argument", "flag needs an argument", "usage:"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func newRootCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kcloud",
		Short: "Turn a folder of YAML specs into a running K3s platform, agentless",
		Long: `kcloud validates, renders, diffs and applies a tree of kcloud.dev/v1alpha1
specs to a K3s cluster, and installs K3s itself over SSH. Nothing runs in the
cluster to do it.`,
		Example: `  kcloud vet specs/ && kcloud diff specs/ && kcloud apply specs/
  source <(kcloud completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(g)
			if err != nil {
				return withCode(exitUsage, err)
			}
			g.log = log
			g.contextSet = cmd.Flags().Changed("context")
			kube.RouteKlog(log, g.red.String)
			cmd.SetContext(log.WithContext(cmd.Context()))
			return nil
		},
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&g.context, "context", "", "kubeconfig context to use (naming it also tells apply that its server is the right cluster)")
	f.IntVar(&g.apiAttempts, "api-attempts", kube.DefaultRetryAttempts, "how often an API request that failed transiently (5xx, 429, a dropped connection) is sent at most, with exponential backoff; 1 disables retries")
	f.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&g.logFormat, "log-format", "", "log format: console or json (default json when not a terminal or CI=true)")
	f.StringVar(&g.manifestCache, "manifest-cache", "", "directory of the pinned URL manifest cache (default $KCLOUD_MANIFEST_CACHE, else kcloud/manifests in the user cache directory)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(exitUsage, fmt.Errorf("%w\nsee '%s --help'", err, c.CommandPath()))
	})

	for _, sub := range []*cobra.Command{
		newVetCmd(g),
		newRenderCmd(g),
		newImagesCmd(g),
		newDocsCmd(g),
		newVersionCmd(g),
		newSchemaCmd(g),
		newIdentitiesCmd(g),
		newDiffCmd(g),
		newApplyCmd(g),
		newStatusCmd(g),
		newDestroyCmd(g),
		newUnlockCmd(g),
		newBootstrapCmd(g),
		newManifestsCmd(g),
	} {
		if strings.Contains(sub.Use, "[DIR...]") {
			sub.ValidArgsFunction = completeDirs
		}
		cmd.AddCommand(sub)
	}
	finishHelp(cmd)
	return cmd
}

// newLogger builds the zerolog logger on stderr, through the redactor:
// console for people on a terminal, JSON lines for CI and pipes. It keeps
// the logger's writer in g.logOut.
func newLogger(g *globals) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(g.logLevel)
	if err != nil || g.logLevel == "" {
		return zerolog.Nop(), fmt.Errorf("--log-level %q: use debug, info, warn or error", g.logLevel)
	}
	format := g.logFormat
	if format == "" {
		format = "console"
		if os.Getenv("CI") == "true" || !isTerminal(g.stderr) {
			format = "json"
		}
		g.logFormat = format // resolved once: liveLines reads it
	}
	var w io.Writer
	switch format {
	case "json":
		w = g.stderr // redacting (run)
	case "console":
		w = consoleWriter(g.stderr, colorOK(g.stderr))
	default:
		return zerolog.Nop(), fmt.Errorf("--log-format %q: use console or json", format)
	}
	g.logOut = w
	return zerolog.New(w).Level(level).With().Timestamp().Logger(), nil
}

// durationFields are the log fields that hold a duration (zerolog's Dur:
// milliseconds, a number in JSON lines).
var durationFields = []string{"duration", "wait"}

// consoleWriter writes log lines for people: durations with their unit
// (duration=228ms, not duration=228.495479).
func consoleWriter(out io.Writer, color bool) zerolog.ConsoleWriter {
	return zerolog.ConsoleWriter{Out: out, NoColor: !color, TimeFormat: "15:04:05", FormatPrepare: func(fields map[string]any) error {
		for _, name := range durationFields {
			// The console writer decodes the JSON line with numbers kept.
			if n, ok := fields[name].(json.Number); ok {
				if v, err := n.Float64(); err == nil {
					fields[name] = durationOf(v, zerolog.DurationFieldUnit).String()
				}
			}
		}
		return nil
	}}
}

// durationOf is n of unit, rounded to a millisecond (or a microsecond,
// under one).
func durationOf(n float64, unit time.Duration) time.Duration {
	d := time.Duration(n * float64(unit))
	if d >= time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// isTerminal reports whether w is a terminal (colour and console logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr }) // an *os.File, or a redacting writer on one
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorOK reports whether output to w may be coloured: a terminal, and
// NO_COLOR unset or empty (https://no-color.org).
func colorOK(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

// specDirs returns the spec directories of a command: its arguments, or
// specs/.
func specDirs(args []string) []string {
	if len(args) == 0 {
		return []string{"specs"}
	}
	return args
}
