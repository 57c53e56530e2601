package spec

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The Cluster's values end up in K3s's flags (INSTALL_K3S_EXEC, which the
// installer re-evaluates as shell words) and in SSH targets, so after ${…}
// expansion they are held to strict shapes: no blanks, quotes or shell
// punctuation can get through to become another flag or command.

var (
	// storagePath: an absolute path of plain characters.
	storagePath = regexp.MustCompile(`^/[A-Za-z0-9._+@/-]*$`)
	// unixUser: a POSIX portable user name.
	unixUser = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]{0,31}$`)
)

// CheckHost says why s cannot be a node's host or the API endpoint: it
// must be an IP address or a DNS name.
func CheckHost(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(strings.ToLower(s)); len(errs) > 0 {
		return fmt.Errorf("%q is neither an IP address nor a DNS name", s)
	}
	return nil
}

// CheckUser says why s cannot be an SSH user name.
func CheckUser(s string) error {
	if !unixUser.MatchString(s) {
		return fmt.Errorf("%q is not a user name (letters, digits, '.', '_', '-'; at most 32)", s)
	}
	return nil
}

// CheckStoragePath says why s cannot be K3s's local storage path.
func CheckStoragePath(s string) error {
	if !storagePath.MatchString(s) {
		return fmt.Errorf("%q is not an absolute path of letters, digits and . _ + @ / -", s)
	}
	return nil
}

// CheckNodeName says why s cannot be a node name.
func CheckNodeName(s string) error {
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return fmt.Errorf("%q is not a node name: %s", s, strings.Join(errs, "; "))
	}
	return nil
}

// ExpandedDiagnostics checks the Cluster's values as bootstrap will use
// them, with each ${NAME} lookup knows expanded (those it does not know are
// reported elsewhere).
func (c *Cluster) ExpandedDiagnostics(lookup func(string) (string, bool)) Diagnostics {
	var d Diagnostics
	check := func(raw string, p Pos, what string, fn func(string) error) {
		v, missing := Expand(raw, lookup)
		if len(missing) > 0 || raw == "" {
			return
		}
		if err := fn(v); err != nil {
			d.errorf(p, "%s: %v", what, err)
		}
	}
	check(c.StoragePath, c.StoragePathPos, "spec.storage.path", CheckStoragePath)
	check(c.APIEndpoint, c.APIEndpointPos, "spec.apiEndpoint", CheckHost)
	for _, n := range c.Nodes {
		check(n.Name, n.Pos, "node name", CheckNodeName)
		check(n.Host, n.HostPos, "node "+n.Name+" host", CheckHost)
		check(n.User, n.Pos, "node "+n.Name+" user", CheckUser)
	}
	return d
}
