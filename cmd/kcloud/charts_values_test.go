package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecsMisspeltValuesKey: a misspelt values key in any chart of
// specs/ is a vet warning at the key's line, naming the key and the
// nearest key the chart reads; with --strict it is an error.
func TestSpecsMisspeltValuesKey(t *testing.T) {
	dir, kubero := specsCopy(t)
	if kubero != "" {
		t.Skipf("the Kubero operator manifest cannot be had offline: %s", kubero)
	}
	for _, tc := range []struct {
		file, from, to, key, nearest string
	}{
		{"l1-bootstrap/cert-manager.yaml", "      crds:\n", "      crdz:\n", "crdz", "crds"},
		{"l2-platform/external-dns.yaml", "      provider:\n", "      provder:\n", "provder", "provider"},
		{"l2-platform/headlamp.yaml", "      clusterRoleBinding:\n", "      clusterRoleBindng:\n", "clusterRoleBindng", "clusterRoleBinding"},
		{"l2-platform/oauth2-proxy.yaml", "        existingSecret: oauth2-proxy", "        existingSecrt: oauth2-proxy", "config.existingSecrt", "config.existingSecret"},
		{"l2-platform/platform-postgres.yaml", "          existingClaim: platform-postgres-data", "          existingClam: platform-postgres-data", "primary.persistence.existingClam", "primary.persistence.existingClaim"},
		{"l2-platform/vault.yaml", "          size: 10Gi", "          sise: 10Gi", "server.dataStorage.sise", "server.dataStorage.size"},
		{"l3-data/redis.yaml", "        existingSecret: redis\n", "        existingSecrett: redis\n", "auth.existingSecrett", "auth.existingSecret"},
		{"l3-data/business-pg.yaml", "        database: app", "        databse: app", "auth.databse", "auth.database"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(orig), tc.from) {
				t.Fatalf("%s has no %q", tc.file, tc.from)
			}
			changed := strings.Replace(string(orig), tc.from, tc.to, 1)
			line := strings.Count(changed[:strings.Index(changed, tc.to)], "\n") + 1
			if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o644)

			want := fmt.Sprintf("%s:%d: warning: values key %s", tc.file, line, tc.key)
			got := valuesDiagnostics(t, dir, "")
			if !strings.Contains(got, want) || !strings.Contains(got, "the nearest is "+tc.nearest) {
				t.Errorf("vet does not report %q (nearest %s):\n%s", want, tc.nearest, got)
			}
			if got := valuesDiagnostics(t, dir, "--strict"); !strings.Contains(got, fmt.Sprintf("%s:%d: error: values key %s", tc.file, line, tc.key)) {
				t.Errorf("vet --strict does not make it an error:\n%s", got)
			}
		})
	}
	// As shipped, no chart of specs/ has a key its chart does not read.
	if got := valuesDiagnostics(t, dir, ""); got != "" {
		t.Errorf("specs/ as shipped:\n%s", got)
	}
}

// valuesDiagnostics runs vet on dir and returns its values-key
// diagnostics, one "file:line: severity: message" a line, file relative
// to dir.
func valuesDiagnostics(t *testing.T, dir, flag string) string {
	t.Helper()
	args := []string{"vet", dir, "-o", "json"}
	if flag != "" {
		args = append(args, flag)
	}
	_, stdout, stderr := kcloud(t, args...)
	var out struct {
		Diagnostics []struct {
			File, Message, Severity string
			Line                    int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("vet: %v\n%s%s", err, stdout, stderr)
	}
	var b strings.Builder
	for _, d := range out.Diagnostics {
		if strings.Contains(d.Message, "values key") {
			rel, _ := filepath.Rel(dir, d.File)
			fmt.Fprintf(&b, "%s:%d: %s: %s\n", rel, d.Line, d.Severity, d.Message)
		}
	}
	return b.String()
}
