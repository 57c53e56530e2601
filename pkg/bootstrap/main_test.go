package bootstrap_test

import (
	"os"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
)

// The day-2 tests drain and remove nodes through the package's shared API
// server.
func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
