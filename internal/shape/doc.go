// Package shape holds no code, only tests of the code's shape that no
// compiler checks: one struct type names an object (change.Ref), and no
// production file or function outgrows the size bar. The tests read the
// module's Go files with go/parser; they run with every `go test ./...`.
package shape
