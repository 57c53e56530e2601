// Command kcloud turns a folder of YAML specs into a running K3s platform.
// Each command's help is generated into docs/commands/ (make docs); the
// data flow and the package map are in ARCHITECTURE.md.
//
// # Files
//
//   - against.go: diff --against REV: the tree at a git revision, extracted and rendered
//   - apply.go: the apply command and its flags
//   - bootstrap.go: the bootstrap command: flags, SSH credentials, advice on host key errors
//   - bootstrap_progress.go: bootstrap's live lines on a terminal
//   - bootstrap_restore.go: bootstrap restore: a cluster back to a snapshot
//   - complete.go: shell completion of directories, layers, environments and -o values
//   - destroy.go: the destroy command
//   - diff.go: the diff command
//   - docs.go: the docs command (the SSOT tables as Markdown)
//   - flags.go: -o as a flag type that refuses bad values at parse time; liveLines, the one rule for live lines
//   - gcpace.go: paceGC, the collector paced to a heap budget (main's first step)
//   - guard.go: the wrong-cluster guard, a step each command takes on its session
//   - help.go: the usage template (examples last) and the examples of cobra's help and completion commands
//   - identities.go: the identities command
//   - images.go: the images command (every image the plan runs)
//   - load.go: load, the one load path: a session (tree, plan, clients); connecting; reporting diagnostics
//   - main.go: main: a signal-aware context, run, exit
//   - manifests.go: the manifests fetch and add commands; the manifest cache's location
//   - progress.go: live progress for apply and destroy
//   - readahead.go: what an online load reads of the cluster while its specs are loaded and checked
//   - render.go: the render command; --layer and --env
//   - root.go: run, the root command, global flags, the logger, exit codes
//   - schema.go: the schema command (JSON Schema for editors)
//   - status.go: the status command
//   - unlock.go: the unlock command
//   - version.go: the version command and the build info it reads
//   - vet.go: the vet command
package main
