//go:build tools

// Package pins keeps the pinned dependencies of the project in go.mod before
// the code that uses them lands (see DEVELOPERS.md for why these versions).
package pins

import (
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/rs/zerolog"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "k8s.io/cli-runtime/pkg/genericclioptions"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/kubectl/pkg/cmd/util"
	_ "sigs.k8s.io/cli-utils/pkg/apply"
	_ "sigs.k8s.io/controller-runtime/pkg/envtest"
)
