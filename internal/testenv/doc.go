// Package testenv holds the real harnesses kcloud's tests run against: a
// kube-apiserver and etcd started through controller-runtime's envtest (with
// the CRDs a K3s cluster serves), and an OpenSSH server on loopback. Nothing
// here is a mock: the binaries are the ones `make testbin` builds into bin/.
package testenv
