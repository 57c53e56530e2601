package gentree

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const cluster = `apiVersion: kcloud.dev/v1alpha1
kind: Cluster
metadata:
  name: bench
spec:
  k3s:
    channel: stable
  nodes:
    - name: node-1
      host: 192.0.2.10
  domains:
    internal: int.example.com
    base: example.com
  environments:
    - name: staging
      prefix: x-staging
    - name: prod
      prefix: ""
`

// chartsLock pins the chart every L3 component renders: the archive
// testdata/charts/kv-0.1.0.tgz (testdata/valid-minimal/charts.lock pins the
// same).
const chartsLock = `charts:
- chart: kv
  repo: https://charts.example.com
  sha256: e8088d66576e2a2123e3779c54248d438b5c54003517715bfdf80cd40ffcf888
  version: 0.1.0
`

// Write writes the tree into dir: cluster.yaml, data/NNNN.yaml (L3) and
// apps/NNNN.yaml (L4). Every L4 component depends on its L3 twin.
func Write(dir string, n int) error {
	for _, sub := range []string{"data", "apps"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(cluster), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "charts.lock"), []byte(chartsLock), 0o644); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := os.WriteFile(filepath.Join(dir, "data", fmt.Sprintf("db-%04d.yaml", i)), []byte(dataComponent(i)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "apps", fmt.Sprintf("app-%04d.yaml", i)), []byte(appComponent(i)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func dataComponent(i int) string {
	return strings.ReplaceAll(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: db-NNNN
spec:
  layer: L3
  storage:
    - name: data
      size: 1Gi
  helm:
    # testdata/charts/kv-0.1.0.tgz, a chart written for kcloud's tests:
    # kcloud renders charts itself, so the tree pins one it can have
    # offline (charts.lock); callers put the archive in the cache.
    repo: https://charts.example.com
    chart: kv
    version: 0.1.0
    values:
      server:
        host: db-NNNN.data
        storageClass: local-path-retain
      podAnnotations:
        database: app-NNNN
`, "NNNN", fmt.Sprintf("%04d", i))
}

func appComponent(i int) string {
	return strings.ReplaceAll(`apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata:
  name: app-NNNN
spec:
  layer: L4
  dependsOn: [db-NNNN]
  objects:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: app-NNNN
      data:
        DATABASE_HOST: db-NNNN-postgresql.data-${env}.svc
        PUBLIC_URL: https://app-NNNN.${domains.app}
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: app-NNNN
      spec:
        replicas: 1
        selector:
          matchLabels:
            app: app-NNNN
        template:
          metadata:
            labels:
              app: app-NNNN
          spec:
            containers:
              - name: web
                image: ghcr.io/example/app:1.0.0
                envFrom:
                  - configMapRef:
                      name: app-NNNN
    - apiVersion: v1
      kind: Service
      metadata:
        name: app-NNNN
      spec:
        selector:
          app: app-NNNN
        ports:
          - port: 80
            targetPort: 8080
`, "NNNN", fmt.Sprintf("%04d", i))
}
