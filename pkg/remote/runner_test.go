package remote

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"/usr/local/bin/k3s", "/usr/local/bin/k3s"},
		{"v1.33.5+k3s1", "v1.33.5+k3s1"},
		{"server --tls-san x", "'server --tls-san x'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, Quote(tc.in)); diff != "" {
			t.Errorf("Quote(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		lines, nbytes int
		want          string
	}{
		{name: "short", in: "a\nb\n\n", lines: 5, nbytes: 100, want: "a\nb"},
		{name: "last lines", in: "1\n2\n3\n4\n", lines: 2, nbytes: 100, want: "3\n4"},
		{name: "last bytes, whole lines", in: strings.Repeat("x", 50) + "\nend\n", lines: 5, nbytes: 10, want: "end"},
		{name: "empty", in: "", lines: 5, nbytes: 10, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tail([]byte(tc.in), tc.lines, tc.nbytes)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCopyScript(t *testing.T) {
	want := "umask 077 && mkdir -p /var/lib/kcloud && cat > /var/lib/kcloud/token.kcloud-tmp && chmod 0600 /var/lib/kcloud/token.kcloud-tmp && mv -f /var/lib/kcloud/token.kcloud-tmp /var/lib/kcloud/token"
	if diff := cmp.Diff(want, copyScript("/var/lib/kcloud/token", 0o600)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
