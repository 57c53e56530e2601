package render

import "testing"

func TestIsPlatformHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"vault.int.example.com", true},
		{"auth-2.int.example.com", true},
		{"int.example.com", false},
		{".int.example.com", false},
		{"a.b.int.example.com", false},
		{"Vault.int.example.com", false},
		{"-x.int.example.com", false},
		{"vault.int.example.com.", false},
		{"vault.example.com", false},
		{"vaultint.example.com", false},
		{"*.int.example.com", false},
	} {
		if got := isPlatformHost(tc.host, "int.example.com"); got != tc.want {
			t.Errorf("isPlatformHost(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
