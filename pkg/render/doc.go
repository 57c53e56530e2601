// Package render turns a loaded spec tree into the Kubernetes objects kcloud
// applies, grouped into stacks (l1, l2, l3-<env>, l4-<env>) in apply order.
// It is pure: no cluster access, and no I/O beyond fetching pinned manifest
// URLs through the Fetcher it is given. Rules 2, 3 and 5 of the contract are
// checked here, on the rendered objects.
package render
