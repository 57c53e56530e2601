package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"kcloud.dev/kcloud/pkg/render"
)

const published = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: op}\n"

func TestDir(t *testing.T) {
	sum := Sum([]byte(published))
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, d Dir)
		sum     string
		wantOK  bool
		wantErr string
	}{
		{name: "miss", sum: sum},
		{name: "hit", sum: sum, wantOK: true, setup: func(t *testing.T, d Dir) {
			if err := d.Put(sum, []byte(published)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "corrupt entry is never used", sum: sum, wantErr: "is corrupt", setup: func(t *testing.T, d Dir) {
			write(t, filepath.Join(d.Path, sum), published+"# tampered\n")
		}},
		{name: "upper-case hex is no name", sum: strings.ToUpper(sum), wantErr: "not a lowercase sha256"},
		{name: "a path is no name", sum: "../" + sum[3:], wantErr: "not a lowercase sha256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Dir{Path: filepath.Join(t.TempDir(), "manifests")}
			if tc.setup != nil {
				tc.setup(t, d)
			}
			body, ok, err := d.Get(tc.sum)
			if ok != tc.wantOK || !matches(err, tc.wantErr) {
				t.Fatalf("Get = ok %v, err %v; want ok %v, err %q", ok, err, tc.wantOK, tc.wantErr)
			}
			if ok && string(body) != published {
				t.Errorf("body = %q", body)
			}
		})
	}
}

func TestPut(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "a", "b")}
	sum := Sum([]byte(published))
	if err := d.Put(sum, []byte("something else")); err == nil || !strings.Contains(err.Error(), "not "+sum) {
		t.Fatalf("Put of a body that does not match its name: %v", err)
	}
	if err := d.Put(sum, []byte(published)); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		info, _ := e.Info()
		names = append(names, fmt.Sprintf("%s %v", e.Name(), info.Mode()))
	}
	if diff := cmp.Diff([]string{sum + " -rw-r--r--"}, names); diff != "" {
		t.Errorf("cache directory (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvDir {
				return v
			}
			return ""
		}
	}
	def, err := DefaultPath()
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct{ name, flag, env, want string }{
		{"flag wins", "/f", "/e", "/f"},
		{"then the environment", "", "/e", "/e"},
		{"then the user cache", "", "", def},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(tc.flag, env(tc.env))
			if err != nil || got != tc.want {
				t.Errorf("Resolve = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if !strings.HasSuffix(def, filepath.Join("kcloud", "manifests")) {
		t.Errorf("default %q is not kcloud/manifests under the user cache", def)
	}
}

func TestFetcher(t *testing.T) {
	sum := Sum([]byte(published))
	var hits atomic.Int32
	serve := published
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, serve)
	}))
	defer srv.Close()
	online := func(d Dir, stored *[]string) *Fetcher {
		return &Fetcher{Dir: d, Next: &render.HTTPFetcher{Client: srv.Client()}, Stored: func(url, sum string, err error) {
			*stored = append(*stored, fmt.Sprintf("%s %v", sum[:8], err))
		}}
	}
	url := srv.URL + "/op.yaml"
	ctx := context.Background()

	t.Run("fetched once, then served offline", func(t *testing.T) {
		hits.Store(0)
		d := Dir{Path: t.TempDir()}
		var stored []string
		for range 2 {
			if body, err := online(d, &stored).Fetch(ctx, url, sum); err != nil || string(body) != published {
				t.Fatalf("online fetch: %q, %v", body, err)
			}
		}
		if body, err := (&Fetcher{Dir: d}).Fetch(ctx, url, sum); err != nil || string(body) != published {
			t.Fatalf("offline fetch: %q, %v", body, err)
		}
		if hits.Load() != 1 || len(stored) != 1 || stored[0] != sum[:8]+" <nil>" {
			t.Errorf("server hit %d times, stored %v; want once", hits.Load(), stored)
		}
	})
	t.Run("offline miss says how to fill the cache", func(t *testing.T) {
		_, err := (&Fetcher{Dir: Dir{Path: t.TempDir()}}).Fetch(ctx, url, sum)
		if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "kcloud manifests fetch") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("corrupt entry is fetched again online and refused offline", func(t *testing.T) {
		hits.Store(0)
		d := Dir{Path: t.TempDir()}
		write(t, filepath.Join(d.Path, sum), "kind: Secret\n")
		var corrupt *CorruptError
		if _, err := (&Fetcher{Dir: d}).Fetch(ctx, url, sum); !errors.As(err, &corrupt) {
			t.Fatalf("offline: err = %v, want a corrupt entry", err)
		}
		var stored []string
		if body, err := online(d, &stored).Fetch(ctx, url, sum); err != nil || string(body) != published || hits.Load() != 1 {
			t.Fatalf("online: %q, %v, %d hits", body, err, hits.Load())
		}
		if body, ok, err := d.Get(sum); !ok || err != nil || string(body) != published {
			t.Errorf("entry not repaired: %q %v %v", body, ok, err)
		}
	})
	t.Run("a body that does not match its pin is not stored", func(t *testing.T) {
		serve = published + "# changed upstream\n"
		defer func() { serve = published }()
		d := Dir{Path: t.TempDir()}
		var stored []string
		body, err := online(d, &stored).Fetch(ctx, url, sum)
		if err != nil || string(body) != serve {
			t.Fatalf("fetch: %q, %v; want the body, for render to report the mismatch", body, err)
		}
		if _, ok, _ := d.Get(sum); ok || len(stored) != 0 {
			t.Errorf("mismatching body stored (%v)", stored)
		}
	})
	t.Run("an unwritable cache does not fail the fetch", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		write(t, file, "")
		var stored []string
		body, err := online(Dir{Path: file}, &stored).Fetch(ctx, url, sum)
		if err != nil || string(body) != published || len(stored) != 1 || strings.HasSuffix(stored[0], "<nil>") {
			t.Errorf("fetch: %q, %v, stored %v; want the body and the store error reported", body, err, stored)
		}
	})
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func matches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
