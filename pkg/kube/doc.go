// Package kube builds the clients kcloud talks to a cluster with: the REST
// config from a kubeconfig (--kubeconfig, --context, KUBECONFIG) with
// client-side throttling off for bulk work, a resettable RESTMapper over an
// in-memory discovery cache, the dynamic and metadata clients and the
// kubectl Factory that cli-utils takes. It also says, in words a user can act on, when the
// cluster does not serve a kind, and routes client-go's own logging into
// the zerolog logger.
//
// # Files
//
//   - client.go: Options, Clients, the REST config and the write gate
//   - kinds.go: UnservedError: a kind the cluster does not serve, in words
//   - listdecode.go: listItems, a LIST's JSON read as a stream, only the items wanted decoded
//   - live.go: Reader: live objects with one LIST per kind and namespace
//   - log.go: client-go's logging and warnings into zerolog
//   - retry.go: the retrying transport
package kube
