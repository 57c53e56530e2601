// Package diff says what an apply would change, without changing anything.
// It takes the whole plan (render.Result): every rendered object is
// server-side-applied as a dry run (field manager kcloud, the inventory
// annotation the apply writes) and compared with the live object, both
// normalised; objects a stack's inventory lists and the plan no longer
// renders are the prune preview. A custom resource whose CRD the plan
// creates, or an object in a namespace the plan creates, is a create even
// when another stack creates them.
//
// With Options.Seals, an object whose seal holds (pkg/seal: the same
// digest, still at the sealed UID and resourceVersion, as its metadata
// says) is unchanged without being read in full; the objects the diff
// finds unchanged are sealed.
//
// Whether an object changes is decided on the objects; the text of its
// unified diff is rendered only when asked for (Change.Text), so apply and
// -o json never pay for it.
//
// It returns data (a Result of Changes) and prints nothing. The Result also
// holds what was read — inventories and live objects — so that apply and
// status do not read them again. Secret values are masked in every Change.
//
// # Files
//
//   - diff.go: Options, Run, Replan: the whole plan against live
//   - normalize.go: normalising objects; unified YAML diffs
//   - yaml.go: objects printed as sigs.k8s.io/yaml prints them, in one pass
//   - object.go: one object: client-side merge or dry run, and its Change
//   - offline.go: Compare: two renders, offline (diff --against)
//   - prune.go: the prune preview
//   - result.go: Change, Inventory, Result: what Run returns
//   - sealed.go: objects whose seal holds (metadata read only); Digests, the seal digests of a stack (the writer's too); sealing what the diff found unchanged
package diff
