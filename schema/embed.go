package schema

import "embed"

// FS holds every *.cue file of the schema package.
//
//go:embed *.cue
var FS embed.FS
