package main

import (
	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/printer"
	"kcloud.dev/kcloud/pkg/spec"
)

func newDocsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "docs",
		Short:   "Print the SSOT tables (layers, namespaces, StorageClasses, environments) as Markdown",
		Args:    cobra.NoArgs,
		Example: `  kcloud docs > docs/tables.md`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tabs, err := spec.LoadTables()
			if err != nil {
				return err
			}
			return printer.Docs(g.stdout, tabs)
		},
	}
}
