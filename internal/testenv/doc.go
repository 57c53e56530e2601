// Package testenv holds the real harnesses kcloud's tests run against: a
// kube-apiserver and etcd started through controller-runtime's envtest (with
// the CRDs a K3s cluster serves), an OpenSSH server on loopback (whose
// connections a test can cut: SSHD.DropConnections), and a fault proxy in
// front of the API server. Nothing here is a mock: the binaries are the ones
// `make testbin` builds into bin/. The one stand-in is K3s (k3s.go), which
// cannot be had offline: an installer and k3s that record what they are
// asked to do.
package testenv
