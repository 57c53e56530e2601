package noi18n

import "k8s.io/kubectl/pkg/util/i18n"

// Err is what setting the loader returned: not nil when a kubectl package
// had already loaded the translations (cmd/kcloud's tests check it).
var Err error

func init() {
	Err = i18n.SetLoadTranslationsFunc(func() error { return nil })
}
