package patch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func planApply(t *testing.T, dir, text string) []Change {
	t.Helper()
	ops, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := Plan(dir, ops)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(changes); err != nil {
		t.Fatal(err)
	}
	return changes
}

func TestAddUpdateDeleteMove(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "app.py", "def greet():\n    print(\"Hi\")\n\nif x:\n    greet()\n")
	write(t, dir, "old.txt", "bye\n")
	write(t, dir, "m.txt", "a\nb\n")
	changes := planApply(t, dir, `*** Begin Patch
*** Add File: sub/hello.txt
+Hello, world!
*** Update File: app.py
@@ def greet():
-    print("Hi")
+    print("Hello")
*** Delete File: old.txt
*** Update File: m.txt
*** Move to: moved/m.txt
@@
 a
-b
+c
*** End Patch
`)
	if got := read(t, dir, "sub/hello.txt"); got != "Hello, world!\n" {
		t.Errorf("added file = %q", got)
	}
	if got, want := read(t, dir, "app.py"), "def greet():\n    print(\"Hello\")\n\nif x:\n    greet()\n"; got != want {
		t.Errorf("updated file = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted file still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moved file's old path still there: %v", err)
	}
	if got := read(t, dir, "moved/m.txt"); got != "a\nc\n" {
		t.Errorf("moved file = %q", got)
	}
	kinds := []Kind{}
	for _, c := range changes {
		kinds = append(kinds, c.Kind)
	}
	if diff := cmp.Diff([]Kind{Add, Update, Delete, Update}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	wantDiff := "@@ -1,5 +1,5 @@\n def greet():\n-    print(\"Hi\")\n+    print(\"Hello\")\n \n if x:\n     greet()\n"
	if diff := cmp.Diff(wantDiff, changes[1].Diff); diff != "" {
		t.Errorf("update diff (-want +got):\n%s", diff)
	}
	if changes[3].MoveTo != filepath.Join(dir, "moved/m.txt") {
		t.Errorf("MoveTo = %q", changes[3].MoveTo)
	}
}

func TestDiffHunksAreSeparateWhenFarApart(t *testing.T) {
	var lines []string
	for i := 1; i <= 20; i++ {
		lines = append(lines, "l"+string(rune('a'+i)))
	}
	reps := []replacement{{1, 1, []string{"X"}}, {15, 1, nil}}
	got := unifiedDiff(lines, reps)
	want := "@@ -1,5 +1,5 @@\n lb\n-lc\n+X\n ld\n le\n lf\n@@ -13,7 +13,6 @@\n ln\n lo\n lp\n-lq\n lr\n ls\n lt\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestWhitespaceTolerantMatchAndEOF(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "f.go", "x := 1  \nreturn x\n}\n")
	planApply(t, dir, "*** Begin Patch\n*** Update File: f.go\n@@\n-x := 1\n+x := 2\n return x\n }\n*** End of File\n*** End Patch")
	if got := read(t, dir, "f.go"); got != "x := 2\nreturn x\n}\n" {
		t.Errorf("got %q", got)
	}
}

func TestHeredocWrapperAndCRLF(t *testing.T) {
	dir := t.TempDir()
	planApply(t, dir, "apply_patch <<'EOF'\r\n*** Begin Patch\r\n*** Add File: a.txt\r\n+one\r\n*** End Patch\r\nEOF\r\n")
	if got := read(t, dir, "a.txt"); got != "one\n" {
		t.Errorf("got %q", got)
	}
}

func TestPatchThatDoesNotApplyChangesNothing(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.txt", "alpha\n")
	write(t, dir, "b.txt", "beta\n")
	ops, err := Parse("*** Begin Patch\n*** Update File: a.txt\n-alpha\n+ALPHA\n*** Update File: b.txt\n-gamma\n+GAMMA\n*** End Patch")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Plan(dir, ops)
	var ae *ApplyError
	if !errors.As(err, &ae) || ae.Path != filepath.Join(dir, "b.txt") || !strings.Contains(ae.Msg, "gamma") {
		t.Fatalf("err = %v, want an ApplyError naming b.txt and the missing line", err)
	}
	if got := read(t, dir, "a.txt"); got != "alpha\n" {
		t.Errorf("a.txt changed to %q although the patch failed", got)
	}
	if _, err := Plan(dir, []FileOp{{Kind: Delete, Path: "missing.txt"}}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("deleting a missing file: err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no begin", "*** Add File: a\n+x\n*** End Patch", `line 1: the first line must be "*** Begin Patch"`},
		{"no end", "*** Begin Patch\n*** Add File: a\n+x", `the last line must be "*** End Patch"`},
		{"empty", "*** Begin Patch\n*** End Patch", "changes no file"},
		{"bad op", "*** Begin Patch\n*** Frobnicate: a\n*** End Patch", `line 2: "*** Frobnicate: a" is not a file operation`},
		{"bad change line", "*** Begin Patch\n*** Update File: a\n@@\n?x\n*** End Patch", `line 4: "?x": a change line starts with`},
		{"update without changes", "*** Begin Patch\n*** Update File: a\n*** End Patch", "has no changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
