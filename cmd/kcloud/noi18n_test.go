package main

import (
	"testing"

	"k8s.io/kubectl/pkg/util/i18n"

	"kcloud.dev/kcloud/cmd/kcloud/internal/noi18n"
)

// TestNoTranslationsLoaded: the binary's packages initialize with noi18n
// first, so that no kubectl package loads its translations, and kubectl's
// messages stay in English.
func TestNoTranslationsLoaded(t *testing.T) {
	if noi18n.Err != nil {
		t.Errorf("a kubectl package loaded its translations before noi18n's init: %v", noi18n.Err)
	}
	const msg = "Print the supported API resources on the server."
	if got := i18n.T(msg); got != msg {
		t.Errorf("i18n.T(%q) = %q", msg, got)
	}
}
