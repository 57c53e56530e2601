// Package plancheck checks what relates the objects of a rendered plan to
// each other and to the outside, offline, over every object of every stack
// (chart objects included once charts render into the plan):
//
//   - references: every Secret, ConfigMap, PersistentVolumeClaim,
//     ServiceAccount, StorageClass, IngressClass, Service, (Cluster)Issuer,
//     PriorityClass, Traefik Middleware and HelmChart an object names must
//     be in the plan, be one K3s ships, or be made by a controller the plan
//     runs; a key an object reads must be a key of what it names. An object
//     declares the rare reference to something made elsewhere with the
//     annotation kcloud.dev/external.
//   - images: every image the plan runs, with the component and file that
//     bring it; no tag or the tag latest is an error, a tag without a
//     digest a warning (an error when strict) unless the component lists
//     it under unpinnedImages with a reason.
//   - exposure: every Ingress host on the internal domain declares how its
//     users authenticate with the annotation kcloud.dev/auth: gate (a
//     Traefik forwardAuth Middleware of the plan), native: <how>, or
//     public: <why>.
//
// It returns diagnostics at the file:line:col of the offending field and
// data (Images); it makes no API calls and prints nothing. Rules 16, 17 and
// 18 of ARCHITECTURE.md's rule index.
//
// # Files
//
//   - plancheck.go: Check, the plan's index, resolving references (rule 16)
//   - refs.go: what each kind references
//   - shipped.go: what K3s ships and the plan's controllers make
//   - images.go: Images and the image rules (rule 17)
//   - exposure.go: who may reach each internal host (rule 18)
package plancheck
