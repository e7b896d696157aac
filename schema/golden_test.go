package schema

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Golden directories, relative to this package.
const (
	goldenJSONDir = "../testdata/schema/json"
	goldenTSDir   = "../testdata/schema/typescript"
)

const staleMsg = "golden files are stale: run `go test ./schema -update`"

func TestGoldenJSON(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, goldenJSONDir, files)
}

func TestGoldenTypeScript(t *testing.T) {
	files, err := GenerateTypeScript()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, goldenTSDir, files)
}

// checkGolden compares files with the directory dir: first the list of
// names, then each file's bytes. With -update it rewrites dir instead,
// removing files that are no longer generated.
func checkGolden(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d files to %s", len(files), dir)
		return
	}

	golden, err := readDir(os.DirFS(dir))
	if err != nil {
		t.Fatalf("%v\n%s", err, staleMsg)
	}
	if problems := compareFiles(golden, files); len(problems) > 0 {
		t.Fatalf("%s: %s\n%s", dir, strings.Join(problems, "\n"), staleMsg)
	}
}

// compareFiles describes how got differs from want: missing and extra
// names, then a diff excerpt per differing file.
func compareFiles(want, got map[string][]byte) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			problems = append(problems, "missing golden file "+name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := got[name]; !ok {
			problems = append(problems, "stale golden file "+name+" (no longer generated)")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		w, ok := want[name]
		if ok && !bytes.Equal(w, got[name]) {
			problems = append(problems, fmt.Sprintf("%s differs:\n%s", name, diffExcerpt(w, got[name])))
		}
	}
	return problems
}

// readDir reads every regular file of fsys, keyed by slash path.
func readDir(fsys fs.FS) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		out[path] = b
		return err
	})
	return out, err
}

// diffExcerpt shows the first differing line of two texts with a few lines
// of context, as "-golden" and "+generated" lines.
func diffExcerpt(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	for j := max(0, i-3); j < i; j++ {
		fmt.Fprintf(&b, "  %4d  %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(wl), i+4); j++ {
		fmt.Fprintf(&b, "- %4d  %s\n", j+1, wl[j])
	}
	for j := i; j < min(len(gl), i+4); j++ {
		fmt.Fprintf(&b, "+ %4d  %s\n", j+1, gl[j])
	}
	return b.String()
}

func TestCompareFilesReportsDifferences(t *testing.T) {
	want := map[string][]byte{"a.json": []byte("{\n  \"x\": 1\n}\n"), "old.json": nil}
	got := map[string][]byte{"a.json": []byte("{\n  \"x\": 2\n}\n"), "new.json": nil}
	problems := strings.Join(compareFiles(want, got), "\n")
	for _, s := range []string{"missing golden file new.json", "stale golden file old.json", "a.json differs", `-    2    "x": 1`, `+    2    "x": 2`} {
		if !strings.Contains(problems, s) {
			t.Errorf("report lacks %q:\n%s", s, problems)
		}
	}
	if p := compareFiles(want, want); len(p) != 0 {
		t.Errorf("equal sets reported as different: %v", p)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, gen := range []struct {
		name string
		fn   func() (map[string][]byte, error)
	}{{"json", Generate}, {"typescript", GenerateTypeScript}} {
		a, err := gen.fn()
		if err != nil {
			t.Fatal(err)
		}
		b, err := gen.fn()
		if err != nil {
			t.Fatal(err)
		}
		if p := compareFiles(a, b); len(p) != 0 {
			t.Errorf("%s: two runs differ:\n%s", gen.name, strings.Join(p, "\n"))
		}
	}
}

// Generated files must not depend on the machine: no absolute paths.
func TestGeneratedFilesHaveNoLocalPaths(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(wd)
	for _, gen := range []func() (map[string][]byte, error){Generate, GenerateTypeScript} {
		files, err := gen()
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if bytes.Contains(b, []byte(root)) {
				t.Errorf("%s contains the local path %s", name, root)
			}
			if !bytes.HasSuffix(b, []byte("\n")) {
				t.Errorf("%s does not end with a newline", name)
			}
		}
	}
}
