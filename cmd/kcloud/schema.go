package main

import (
	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/spec"
)

func newSchemaCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print a JSON Schema of the spec format, for editors",
		Long: `schema prints a JSON Schema (draft 2020-12) of one kcloud.dev/v1alpha1
document, a Cluster or a Component, generated from the CUE schema kcloud
validates with. Point yaml-language-server (VS Code's YAML extension,
Neovim, Helix…) at it for completion and checks as you type; kcloud vet
remains the full check (cross-file rules, positions of ${…} references).`,
		Example: `  kcloud schema > kcloud.schema.json
  # then, first line of a spec file:
  # yaml-language-server: $schema=../kcloud.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			tabs, err := spec.LoadTables()
			if err != nil {
				return err
			}
			b, err := tabs.JSONSchema()
			if err != nil {
				return err
			}
			_, err = g.stdout.Write(b)
			return err
		},
	}
}
