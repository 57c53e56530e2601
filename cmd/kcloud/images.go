package main

import (
	"os"

	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/plancheck"
	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/render"
)

func newImagesCmd(g *globals) *cobra.Command {
	var flags struct{ output *enumFlag }
	cmd := &cobra.Command{
		Use:   "images [DIR...]",
		Short: "List every image the platform runs, with the component and file that bring it",
		Long: `images renders the spec tree (default specs/) as render does — pinned
manifests fetched through the cache and patched, every environment — and
lists every image the plan runs: each container of every pod template, and
the Kubero UI the Kubero operator runs for a Kubero resource. Each line
names the image, the component that brings it, the objects that run it and
the file:line:col where it is written. The image rules (a tag other than
latest, a digest) are vet's. Exit 0, or 1 when the specs are invalid.`,
		Example: `  kcloud images specs/
  kcloud images specs/ -o json | jq -r '.images[] | select(.digest == "") | .image'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := load(cmd.Context(), g, specDirs(args), loadOptions{render: &render.Options{}})
			if err != nil {
				return err
			}
			wd, _ := os.Getwd()
			return printer.Images(g.stdout, plancheck.Images(s.plan), flags.output.value, wd)
		},
	}
	flags.output = addOutputFlag(cmd, "output format: text or json", "text", "json")
	return cmd
}
