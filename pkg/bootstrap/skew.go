package bootstrap

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"kcloud.dev/kcloud/pkg/spec"
)

// k3sVersion is a K3s release, v1.33.5+k3s1: Kubernetes' version and K3s's
// revision of it (an -rcN sorts before its release).
type k3sVersion struct {
	major, minor, patch int
	rc                  int // 0 for a release
	rev                 int // the N of +k3sN
}

// parseK3sVersion reads "v1.33.5+k3s1", "v1.34.2-rc1+k3s1", or a channel
// "v1.34" (patch and revision 0). ok is false for anything else, such as
// the channels stable, latest and testing.
func parseK3sVersion(s string) (v k3sVersion, ok bool) {
	rest, found := strings.CutPrefix(s, "v")
	if !found {
		return v, false
	}
	rest, rev, hasRev := strings.Cut(rest, "+k3s")
	rest, rc, hasRC := strings.Cut(rest, "-rc")
	parts := strings.Split(rest, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		nums[i] = n
	}
	v = k3sVersion{major: nums[0], minor: nums[1], patch: nums[2]}
	var err error
	if hasRev {
		if v.rev, err = strconv.Atoi(rev); err != nil {
			return v, false
		}
	}
	if hasRC {
		if v.rc, err = strconv.Atoi(rc); err != nil || v.rc == 0 {
			return v, false
		}
	}
	return v, true
}

// compare orders two releases; a channel "v1.34" compares as v1.34.0.
func (v k3sVersion) compare(w k3sVersion) int {
	rcOrder := func(rc int) int { // a release sorts after its candidates
		if rc == 0 {
			return int(^uint(0) >> 1)
		}
		return rc
	}
	return cmp.Or(cmp.Compare(v.major, w.major), cmp.Compare(v.minor, w.minor), cmp.Compare(v.patch, w.patch),
		cmp.Compare(rcOrder(v.rc), rcOrder(w.rc)), cmp.Compare(v.rev, w.rev))
}

func (v k3sVersion) minorString() string { return fmt.Sprintf("v%d.%d", v.major, v.minor) }

// SkewError is an upgrade Kubernetes' version-skew policy forbids; nothing
// was changed.
type SkewError struct {
	Node string
	// From is what the node runs, To what the spec asks for.
	From, To string
	// Reason says what is wrong and the way through.
	Reason string
}

func (e *SkewError) Error() string {
	return fmt.Sprintf("node %s: refusing %s → %s: %s", e.Node, e.From, e.To, e.Reason)
}

// checkSkew refuses a plan that breaks Kubernetes' version-skew policy
// (https://kubernetes.io/releases/version-skew-policy/, kubernetes/website
// content/en/releases/version-skew-policy.md): the API servers move one
// minor version at a time and never down, and a kubelet is never newer than
// the API servers. Servers go before agents (apply's order), so the agents
// meet servers already at the target. The release of a channel other than
// vX.Y is known only once installed: such plans are not checked.
func checkSkew(c *Cluster, plan []NodePlan) error {
	target := c.Version
	if target == "" {
		target = c.Channel
	}
	to, ok := parseK3sVersion(target)
	if !ok {
		return nil
	}
	for _, np := range plan {
		if np.Current == "" || np.Action == ActionRemove {
			continue
		}
		from, ok := parseK3sVersion(np.Current)
		if !ok {
			return fmt.Errorf("node %s: K3s reports version %q, which kcloud cannot compare", np.Node.Name, np.Current)
		}
		if c.Channel != "" {
			// A vX.Y channel: only the minor version is known.
			from.patch, from.rc, from.rev = 0, 0, 0
		}
		if err := skewOf(np, from, to, target); err != nil {
			return err
		}
	}
	return nil
}

// skewOf checks one node's move from from to to.
func skewOf(np NodePlan, from, to k3sVersion, target string) error {
	e := &SkewError{Node: np.Node.Name, From: np.Current, To: target}
	switch {
	case from.compare(to) > 0 && np.Node.Role == spec.RoleAgent:
		e.Reason = fmt.Sprintf("the agent would be newer than the servers at %s, and a kubelet must never be newer than the API server; set k3s.version to %s or later to upgrade the servers first",
			target, np.Current)
	case from.compare(to) > 0:
		e.Reason = "Kubernetes does not support downgrades; to go back, restore the snapshot taken before the upgrade (kcloud bootstrap restore --snapshot NAME --yes)"
	case from.major != to.major || to.minor > from.minor+1:
		next := k3sVersion{major: from.major, minor: from.minor + 1}
		e.Reason = fmt.Sprintf("Kubernetes upgrades one minor version at a time: upgrade through %s first (set k3s.version to a %s release, run bootstrap, then move on)",
			next.minorString(), next.minorString())
	default:
		return nil
	}
	return e
}
