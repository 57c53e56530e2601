// Package kube builds the clients kcloud talks to a cluster with: the REST
// config from a kubeconfig (--kubeconfig, --context, KUBECONFIG) with QPS and
// burst raised for bulk work, a resettable RESTMapper over an in-memory
// discovery cache, the dynamic client and the kubectl Factory that
// cli-utils takes. It also says, in words a user can act on, when the
// cluster does not serve a kind, and routes client-go's own logging into
// the zerolog logger.
package kube
