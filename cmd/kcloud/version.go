package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…" (make
// release does); otherwise the module version from the build info.
var version = "dev"

// buildInfo is what `kcloud version` reports.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// readBuildInfo combines the stamped version with the build info the Go
// toolchain embeds: the module version (set by `go install …@vX`) and, for
// builds from a git checkout with -buildvcs, vcs.revision, vcs.time and
// vcs.modified (https://pkg.go.dev/runtime/debug#BuildSetting).
func readBuildInfo(stamped string, info *debug.BuildInfo, ok bool) buildInfo {
	out := buildInfo{Version: stamped, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok {
		return out
	}
	if info.GoVersion != "" {
		out.GoVersion = info.GoVersion
	}
	if out.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		out.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Revision = s.Value
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		}
	}
	return out
}

func newVersionCmd(g *globals) *cobra.Command {
	var output *enumFlag
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print kcloud's version, VCS revision and Go version",
		Long: `version prints the version kcloud was built as (stamped by make release, or
the module version of go install), the git commit it was built from (when
built from a git checkout) and the Go toolchain.`,
		Example: `  kcloud version
  kcloud version -o json | jq -r .revision`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info, ok := debug.ReadBuildInfo()
			bi := readBuildInfo(version, info, ok)
			if output.value == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(bi)
			}
			_, err := fmt.Fprintln(g.stdout, bi.String())
			return err
		},
	}
	output = addOutputFlag(cmd, "output format: text or json", "text", "json")
	return cmd
}

// String is the one-line text form: kcloud v1.2.3 (abc123def456, go1.26.8, linux/amd64).
func (b buildInfo) String() string {
	rev := ""
	if b.Revision != "" {
		rev = b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if b.Modified {
			rev += "-dirty"
		}
		rev += ", "
	}
	return fmt.Sprintf("kcloud %s (%s%s, %s)", b.Version, rev, b.GoVersion, b.Platform)
}
