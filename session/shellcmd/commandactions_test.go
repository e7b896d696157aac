package shellcmd

import (
	"encoding/json"
	"testing"

	"app-server/protocol"

	"github.com/google/go-cmp/cmp"
)

func readA(cmd, name, path string) protocol.CommandAction {
	return protocol.CommandAction{Read: &protocol.ReadAction{Command: cmd, Name: name, Path: path}}
}

func listA(cmd string, path ...string) protocol.CommandAction {
	return protocol.CommandAction{ListFiles: &protocol.ListFilesAction{Command: cmd, Path: onlyOne(path)}}
}

// searchA takes "" for a null query; paths gives the path (null unless one).
func searchA(cmd, query string, path ...string) protocol.CommandAction {
	a := &protocol.SearchAction{Command: cmd, Path: onlyOne(path)}
	if query != "" {
		a.Query = &query
	}
	return protocol.CommandAction{Search: a}
}

func unknownA(cmd string) protocol.CommandAction { return unknownAction(cmd) }

func TestParseCommandActions(t *testing.T) {
	type A = []protocol.CommandAction
	tests := []struct {
		line string
		want A
	}{
		// Reads.
		{"cat README.md", A{readA("cat README.md", "README.md", "README.md")}},
		{"cat -n src/main.go", A{readA("cat -n src/main.go", "main.go", "src/main.go")}},
		{`cat "my file.txt"`, A{readA(`cat "my file.txt"`, "my file.txt", "my file.txt")}},
		{"cat a b", A{unknownA("cat a b")}},
		{"cat", A{unknownA("cat")}},
		{"cat -", A{unknownA("cat -")}},
		{"head -n 50 go.mod", A{readA("head -n 50 go.mod", "go.mod", "go.mod")}},
		{"head -50 go.mod", A{readA("head -50 go.mod", "go.mod", "go.mod")}},
		{"tail -n5 /var/log/syslog", A{readA("tail -n5 /var/log/syslog", "syslog", "/var/log/syslog")}},
		{"tail --lines=5 log.txt", A{readA("tail --lines=5 log.txt", "log.txt", "log.txt")}},
		{"less -N x.go", A{readA("less -N x.go", "x.go", "x.go")}},
		{"sed -n '1,20p' a/b.txt", A{readA("sed -n '1,20p' a/b.txt", "b.txt", "a/b.txt")}},
		{"sed -n -e 10,$p f", A{readA("sed -n -e 10,$p f", "f", "f")}},
		{"sed 's/a/b/' f", A{unknownA("sed 's/a/b/' f")}},
		{"sed -n 's/a/b/w out' f", A{unknownA("sed -n 's/a/b/w out' f")}},
		{"sed -i -n 1p f", A{unknownA("sed -i -n 1p f")}},
		{"sed -ni 1p f", A{unknownA("sed -ni 1p f")}},
		{"/bin/cat x", A{readA("/bin/cat x", "x", "x")}},
		{"LC_ALL=C cat x", A{readA("LC_ALL=C cat x", "x", "x")}},
		{"cat x 2>/dev/null", A{readA("cat x 2>/dev/null", "x", "x")}},

		// Listings.
		{"ls", A{listA("ls")}},
		{"ls -la", A{listA("ls -la")}},
		{"ls -la src", A{listA("ls -la src", "src")}},
		{"ls src docs", A{listA("ls src docs")}},
		{"ls -I '*.o' build", A{listA("ls -I '*.o' build", "build")}},
		{"tree -L 2 pkg", A{listA("tree -L 2 pkg", "pkg")}},
		{"tree", A{listA("tree")}},
		{"find . -name '*.go'", A{listA("find . -name '*.go'", ".")}},
		{"find -L src -type f", A{listA("find -L src -type f", "src")}},
		{"find -name x", A{listA("find -name x")}},
		{"find . -name '*.o' -delete", A{unknownA("find . -name '*.o' -delete")}},
		{"find . -exec rm {} +", A{unknownA("find . -exec rm {} +")}},
		{"rg --files src", A{listA("rg --files src", "src")}},

		// Searches.
		{"grep -rn TODO .", A{searchA("grep -rn TODO .", "TODO", ".")}},
		{"grep foo", A{searchA("grep foo", "foo")}},
		{"grep -e foo -e bar a b", A{searchA("grep -e foo -e bar a b", "foo")}},
		{"grep -A 3 'x y' f.go", A{searchA("grep -A 3 'x y' f.go", "x y", "f.go")}},
		{"grep -f pats.txt src", A{searchA("grep -f pats.txt src", "", "src")}},
		{"grep --include=*.go -r foo", A{searchA("grep --include=*.go -r foo", "foo")}},
		{"rg -n 'func main' cmd", A{searchA("rg -n 'func main' cmd", "func main", "cmd")}},
		{"rg -g '*.ts' -t js foo", A{searchA("rg -g '*.ts' -t js foo", "foo")}},
		{"rg -- -foo", A{searchA("rg -- -foo", "-foo")}},
		{"rg --regexp=x src", A{searchA("rg --regexp=x src", "x", "src")}},
		{"ag needle hay", A{searchA("ag needle hay", "needle", "hay")}},
		{"rg", A{searchA("rg", "")}},

		// Several segments, one action each.
		{"cd src && ls", A{unknownA("cd src"), listA("ls")}},
		{"cat go.mod | grep uuid", A{readA("cat go.mod", "go.mod", "go.mod"), searchA("grep uuid", "uuid")}},
		{"ls; cat a.txt", A{listA("ls"), readA("cat a.txt", "a.txt", "a.txt")}},
		{"make || echo failed", A{unknownA("make"), unknownA("echo failed")}},
		{"npm install &", A{unknownA("npm install")}},
		{"ls\ncat x", A{listA("ls"), readA("cat x", "x", "x")}},
		{"echo 'a && b'", A{unknownA("echo 'a && b'")}},
		{"(cd x; ls)", A{unknownA("cd x"), listA("ls")}},

		// Anything else.
		{"npm install", A{unknownA("npm install")}},
		{"  go test ./...  ", A{unknownA("go test ./...")}},
		{"> out", A{unknownA("> out")}},
		{"cat $(ls)", A{unknownA("cat $(ls)")}},
		{`echo "unbalanced`, A{unknownA(`echo "unbalanced`)}},
		{"", A{unknownA("")}},
		{";;", A{unknownA(";;")}},
		{"# just a comment", A{unknownA("# just a comment")}},
	}
	for _, tt := range tests {
		got := ParseCommandActions(tt.line)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseCommandActions(%q) mismatch (-want +got):\n%s", tt.line, diff)
		}
	}
}

// Every action must encode: the union marshaller refuses a union with no
// variant set, which is what a classification bug would produce.
func TestParseCommandActionsEncode(t *testing.T) {
	for _, line := range []string{"cat x", "ls", "grep a b", "rg", "x | y && z", ""} {
		acts := ParseCommandActions(line)
		if acts == nil {
			t.Fatalf("%q: nil actions", line)
		}
		if _, err := json.Marshal(acts); err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
	b, _ := json.Marshal(ParseCommandActions("ls"))
	if want := `[{"type":"listFiles","command":"ls","path":null}]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}
