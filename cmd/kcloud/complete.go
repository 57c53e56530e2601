package main

import (
	"context"
	"github.com/spf13/cobra"

	"kcloud.dev/kcloud/pkg/spec"
)

// Shell completion (kcloud completion bash|zsh|fish|powershell): spec
// directories as arguments, and the values of --layer, --env and -o.

// completeDirs completes spec directories.
func completeDirs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// completeLayers completes --layer from the schema's layer table.
func completeLayers(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	tabs, err := spec.LoadTables()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, l := range tabs.Layers {
		out = append(out, cobra.CompletionWithDesc(l.ID, l.Name))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeEnvs completes --env from the environments of the Cluster in
// the command's spec directories (default specs/).
func completeEnvs(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	tree, _, err := spec.Load(context.Background(), specDirs(args))
	if err != nil || tree == nil || tree.Cluster == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return tree.Cluster.EnvNames(), cobra.ShellCompDirectiveNoFileComp
}

// completeValues completes a flag from a fixed list.
func completeValues(values ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
}
