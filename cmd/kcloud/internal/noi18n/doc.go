// Package noi18n keeps kubectl's packages from loading their message
// translations as the process starts. kcloud links kubectl's apply and
// delete commands (through cli-utils' applier) but never shows their
// help; the first package to call kubectl's i18n.T in its variables
// loaded the embedded translation catalog (about 200 KB of .po, 13 ms
// and 4 MB on every start). kubectl's i18n lets a program set the loader
// in an init that runs before any i18n.T call
// (https://github.com/kubernetes/kubectl/blob/v0.37.2/pkg/util/i18n/i18n.go,
// SetLoadTranslationsFunc); this package's init is that one, and its
// import path sorts it ahead of kubectl's command packages in Go's
// initialization order. Untranslated, i18n.T returns its English text.
//
// # Files
//
//   - noi18n.go: the init that sets kubectl's translation loader to none; Err
package noi18n
