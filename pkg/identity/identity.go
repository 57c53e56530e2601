package identity

import (
	"context"
	"fmt"
	"os"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"kcloud.dev/kcloud/pkg/inventory"
	"kcloud.dev/kcloud/pkg/kube"
)

// Names of the two ServiceAccounts, in inventory.Namespace (kube-system).
const (
	ApplyName = "kcloud-apply"
	DiffName  = "kcloud-diff"
)

// DefaultTTL is the lifetime asked for the tokens: 90 days. The API
// server may shorten it (--service-account-max-token-expiration).
const DefaultTTL = 90 * 24 * time.Hour

// Identity is one ServiceAccount and its RBAC.
type Identity struct {
	Name string
	// Cluster are its ClusterRole's rules; System its Role's rules in
	// inventory.Namespace.
	Cluster, System []rbacv1.PolicyRule
}

// Identities returns the apply and the diff identity for rules.
func Identities(r Rules) (apply, diff Identity) {
	apply = Identity{Name: ApplyName, Cluster: r.Apply, System: []rbacv1.PolicyRule{
		// The inventories are ConfigMaps in kube-system; the lock a Lease.
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: WriteVerbs},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: WriteVerbs},
	}}
	diff = Identity{Name: DiffName, Cluster: r.Read, System: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: ReadVerbs},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: ReadVerbs},
	}}
	return apply, diff
}

// Objects returns the ServiceAccount, ClusterRole, ClusterRoleBinding,
// Role and RoleBinding of id.
func (id Identity) Objects() []runtime.Object {
	ns := inventory.Namespace
	labels := map[string]string{inventory.ManagedByLabel: inventory.ManagedBy}
	meta := func(namespace string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: id.Name, Namespace: namespace, Labels: labels}
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: id.Name, Namespace: ns}}
	return []runtime.Object{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(ns)},
		&rbacv1.ClusterRole{TypeMeta: typeMeta("ClusterRole"), ObjectMeta: meta(""), Rules: id.Cluster},
		&rbacv1.ClusterRoleBinding{TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: meta(""), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: id.Name}},
		&rbacv1.Role{TypeMeta: typeMeta("Role"), ObjectMeta: meta(ns), Rules: id.System},
		&rbacv1.RoleBinding{TypeMeta: typeMeta("RoleBinding"), ObjectMeta: meta(ns), Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: id.Name}},
	}
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: kind}
}

// Ensure creates or updates id's objects with server-side apply; rules it
// no longer lists are dropped.
func Ensure(ctx context.Context, c *kube.Clients, id Identity) error {
	for _, obj := range id.Objects() {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: m}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		gvk := u.GroupVersionKind()
		mapping, err := c.Mapping(gvk)
		if err != nil {
			return err
		}
		if _, err := c.Dynamic.Resource(mapping.Resource).Namespace(u.GetNamespace()).Apply(ctx, u.GetName(), u,
			metav1.ApplyOptions{FieldManager: kube.FieldManager, Force: true}); err != nil {
			return fmt.Errorf("identity %s: apply %s: %w", id.Name, gvk.Kind, err)
		}
	}
	return nil
}

// Token mints a token for id's ServiceAccount with the TokenRequest API
// and returns it with its expiry as the server granted it.
func Token(ctx context.Context, c *kube.Clients, name string, ttl time.Duration) (string, time.Time, error) {
	secs := int64(ttl.Seconds())
	tr, err := c.Typed.CoreV1().ServiceAccounts(inventory.Namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("identity %s: token request: %w", name, err)
	}
	return tr.Status.Token, tr.Status.ExpirationTimestamp.Time, nil
}

// WriteKubeconfig writes a kubeconfig for the cluster of cfg that
// authenticates with token, readable by its owner only (0600).
func WriteKubeconfig(path string, cfg *rest.Config, name, token string) error {
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return fmt.Errorf("kubeconfig %s: %w", path, err)
		}
		ca = b
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kcloud"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: ca, TLSServerName: cfg.TLSClientConfig.ServerName, InsecureSkipTLSVerify: cfg.Insecure}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: "kcloud", AuthInfo: name}
	kc.CurrentContext = name
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	// An existing file keeps its mode on open: make it 0600 before writing.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return nil
}

// InventoryKinds returns the kinds every stack's inventory lists: pruning
// deletes them even when the plan no longer renders them.
func InventoryKinds(ctx context.Context, c *kube.Clients) ([]schema.GroupKind, error) {
	stacks, err := inventory.List(ctx, c.Typed)
	if err != nil {
		return nil, err
	}
	var out []schema.GroupKind
	for _, s := range stacks {
		for _, id := range s.Objects {
			out = append(out, id.GroupKind)
		}
	}
	return out, nil
}
