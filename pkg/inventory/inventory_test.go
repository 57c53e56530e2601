package inventory_test

import (
	"os"
	"testing"

	"kcloud.dev/kcloud/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
