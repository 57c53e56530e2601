// Package render turns a loaded spec tree into the Kubernetes objects kcloud
// applies, grouped into stacks (l1, l2, l3-<env>, l4-<env>) in apply order.
// It is pure: no cluster access, and no I/O beyond fetching pinned manifest
// URLs through the Fetcher and chart archives through the ChartSource it
// is given. A component's Helm chart is rendered here, with Helm's SDK,
// into objects of the component (Object.Template names the template). Rules 2, 3, 5, 7 and 9 (ARCHITECTURE.md's
// rule index) are checked here, on the rendered objects.
//
// # Files
//
//   - chart.go: Helm charts rendered into a component's objects
//   - charts.go: the charts of a render on every CPU, with the result of rendering them in tree order
//   - chartcaps.go: what charts see as .Capabilities
//   - chartvalues.go: helm values checked against the chart (schema, unknown keys)
//   - domains.go: rule 7: platform domains
//   - expand.go: substitutions in values and objects
//   - fetch.go: HTTPFetcher: pinned manifests checked against their sha256
//   - hooks.go: chart hooks: IsHook, Result.WithoutHooks (what diff and status compare)
//   - lookup.go: a chart's lookup answered from the plan, then the live cluster (LiveLookup)
//   - order.go: namespace merging and apply order
//   - patch.go: patches of pinned URL manifests, with kustomize's libraries
//   - plan.go: Result helpers, Selection, stack names
//   - render.go: Render: components into stacks, generated objects
//   - reserved.go: rule 9: reserved objects
//   - rules.go: rules 2, 3 and 5 on rendered objects; depends-on annotations
//   - scope.go: namespaces filled in for namespaced objects
//   - sops.go: sops manifests decrypted; ${secret:NAME/KEY} resolved
//   - types.go: Object, Stack, Result, Options
//   - yaml.go: MarshalYAML
package render
