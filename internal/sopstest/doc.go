// Package sopstest encrypts test files the way the sops CLI does, with the
// sops library, to age keys generated in the test.
//
// # Files
//
//   - sopstest.go: age keys, and Encrypt/Decrypt through sops' own packages
package sopstest
