package main

import (
	"github.com/spf13/cobra"
)

// usageTemplate is cobra's usage template with the examples moved to the
// end, where a reader who scrolled past the flags looks for them.
const usageTemplate = `Usage:{{if .Runnable}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasAvailableSubCommands}}

Available Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Additional help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}
`

// completionExamples are the examples of cobra's completion command and
// its shells, which come with none.
var completionExamples = map[string]string{
	"completion": `  source <(kcloud completion bash)
  kcloud completion zsh > "${fpath[1]}/_kcloud"`,
	"bash": `  source <(kcloud completion bash)                           # this shell
  kcloud completion bash > /etc/bash_completion.d/kcloud      # every new shell`,
	"zsh":        `  kcloud completion zsh > "${fpath[1]}/_kcloud"`,
	"fish":       `  kcloud completion fish > ~/.config/fish/completions/kcloud.fish`,
	"powershell": `  kcloud completion powershell | Out-String | Invoke-Expression`,
}

// finishHelp gives every command of root the usage template, and cobra's
// own commands (help, completion and its shells) examples: every --help
// ends with examples.
func finishHelp(root *cobra.Command) {
	root.SetUsageTemplate(usageTemplate)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  kcloud help apply        # the same as kcloud apply --help"
		case "completion":
			c.Example = completionExamples["completion"]
			for _, shell := range c.Commands() {
				shell.Example = completionExamples[shell.Name()]
			}
		}
	}
}
