// Package testenv holds the real harnesses kcloud's tests run against: a
// kube-apiserver and etcd started through controller-runtime's envtest (with
// the CRDs a K3s cluster serves), an OpenSSH server on loopback (whose
// connections a test can cut: SSHD.DropConnections), and a fault proxy in
// front of the API server. Nothing here is a mock: the binaries are the ones
// `make testbin` builds into bin/. The one stand-in is K3s, which cannot be
// had offline: an installer and k3s that record what they are asked to do.
//
// # Files
//
//   - apiserver.go: the shared kube-apiserver + etcd (envtest), kubeconfigs, Run
//   - chartrepo.go: ChartRepo: an HTTPS Helm chart repository on loopback (the upstream chart archives, test charts)
//   - crds.go: the CRDs the test API server serves: K3s's and cert-manager's, from their Go modules
//   - faultproxy.go: FaultProxy: faults, latency, outages and request counts between kcloud and the API server
//   - faultproxy_hook.go: hooks that run at the Nth matching request
//   - helm.go: a stand-in for K3s's Helm controller: install Jobs and their outcomes
//   - helmsdk.go: HelmInstall: a release installed with the Helm SDK's own install action
//   - jobs.go: JobController: a stand-in Job controller and kubelet that end Jobs as a test says
//   - k3s.go: a stand-in K3s installer and k3s binary that record what ran: installs, snapshots, cluster resets, uninstalls, the init system
//   - ociregistry.go: OCIRegistry: an OCI registry on loopback (go-containerregistry's), charts pushed with Helm's client
//   - sshd.go: a real OpenSSH sshd on loopback, host and client keys; cutting its connections
package testenv
