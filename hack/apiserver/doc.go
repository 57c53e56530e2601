// Command apiserver runs the test control plane (kube-apiserver and etcd
// from bin/, with the CRDs K3s serves) until it is interrupted, for
// 'make demo' and hack/bench.sh. It writes an admin kubeconfig and then
// prints "ready".
//
// # Files
//
//   - main.go: starts the test control plane, writes a kubeconfig, waits for a signal
package main
