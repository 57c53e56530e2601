package status

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kcloud.dev/kcloud/pkg/kube"
	"kcloud.dev/kcloud/pkg/spec"
)

// StorageClassCheck compares a K3s-owned StorageClass with the table.
type StorageClassCheck struct {
	Name     string
	Problems []string
}

// ownerK3s is the table's owner of StorageClasses K3s creates.
const ownerK3s = "k3s"

// checkStorageClasses compares the StorageClasses K3s owns (local-path)
// with the table: kcloud never writes them, so a mismatch is reported.
func checkStorageClasses(ctx context.Context, c *kube.Clients, tables *spec.Tables) ([]StorageClassCheck, error) {
	var out []StorageClassCheck
	for _, want := range tables.StorageClasses {
		if want.Owner != ownerK3s {
			continue
		}
		chk := StorageClassCheck{Name: want.Name}
		sc, err := c.Typed.StorageV1().StorageClasses().Get(ctx, want.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			chk.Problems = append(chk.Problems, "missing (K3s creates it unless local-storage is disabled)")
		case err != nil:
			return nil, fmt.Errorf("StorageClass %s: %w", want.Name, err)
		default:
			if sc.Provisioner != want.Provisioner {
				chk.Problems = append(chk.Problems, fmt.Sprintf("provisioner is %s, the table says %s", sc.Provisioner, want.Provisioner))
			}
			got := "Delete" // the API's default
			if sc.ReclaimPolicy != nil {
				got = string(*sc.ReclaimPolicy)
			}
			if got != want.ReclaimPolicy {
				chk.Problems = append(chk.Problems, fmt.Sprintf("reclaimPolicy is %s, the table says %s", got, want.ReclaimPolicy))
			}
		}
		out = append(out, chk)
	}
	return out, nil
}
