package appserver_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	appserver "app-server"
)

// The binary writes the embedded files with WriteDir; what it writes must be
// the golden directory, byte for byte.
func TestWriteDirOfEmbeddedFilesReproducesGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fsys   fs.FS
		golden string
	}{
		{"json", appserver.JSONFiles(), "testdata/schema/json"},
		{"typescript", appserver.TypeScriptFiles(), "testdata/schema/typescript"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "nested", "out")
			if err := appserver.WriteDir(tc.fsys, out); err != nil {
				t.Fatal(err)
			}
			got := readTree(t, out)
			want := readTree(t, tc.golden)
			if len(want) == 0 {
				t.Fatalf("no golden files in %s", tc.golden)
			}
			for name, w := range want {
				g, ok := got[name]
				switch {
				case !ok:
					t.Errorf("%s not written", name)
				case g != w:
					t.Errorf("%s differs from the golden file", name)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s written but not a golden file", name)
				}
			}
		})
	}
}

func TestWriteDirOverwrites(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "RequestId.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := appserver.WriteDir(appserver.JSONFiles(), dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "RequestId.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) == "old" {
		t.Error("RequestId.json was not overwritten")
	}
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
