package shellcmd

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		line string
		want Verdict
	}{
		{"ls", ReadOnly},
		{"ls -la src", ReadOnly},
		{"  pwd  ", ReadOnly},
		{"cat README.md", ReadOnly},
		{"cat *.go", ReadOnly},
		{"cat ~/notes.txt", ReadOnly},
		{`echo "a;b"`, ReadOnly},
		{`echo 'a && b | c > d'`, ReadOnly},
		{`echo a\;b`, ReadOnly},
		{`echo "$HOME"`, ReadOnly},
		{"grep -rn TODO .", ReadOnly},
		{"rg -n foo src", ReadOnly},
		{"head -n 5 file", ReadOnly},
		{"tail -f log", ReadOnly},
		{"wc -l a b", ReadOnly},
		{"which go", ReadOnly},
		{"whoami", ReadOnly},
		{"true", ReadOnly},
		{"false", ReadOnly},
		{"git status", ReadsRepository},
		{"git diff --stat HEAD~1", ReadsRepository},
		{"git log --oneline -n 5", ReadsRepository},
		{"git show HEAD:go.mod", ReadsRepository},
		{`\ls`, ReadOnly},
		{`"ls" -l`, ReadOnly},
		{"ls\\\n -l", ReadOnly}, // line continuation

		// Chains, pipes, redirections, background, subshells.
		{"echo a;rm x", MayWrite},
		{"echo a; rm x", MayWrite},
		{"ls && rm -rf x", MayWrite},
		{"ls || rm x", MayWrite},
		{"ls | xargs rm", MayWrite},
		{"cat a | grep b", MayWrite},
		{"ls\nrm x", MayWrite},
		{"echo hi > file", MayWrite},
		{"echo hi >> file", MayWrite},
		{"echo hi >file", MayWrite},
		{"cat < file", MayWrite},
		{"cat <<< hi", MayWrite},
		{"ls 2>/dev/null", MayWrite},
		{"ls &>out", MayWrite},
		{"ls &", MayWrite},
		{"sleep 1 & rm x", MayWrite},
		{"(ls)", MayWrite},
		{"ls # comment", MayWrite},
		// Substitutions, also inside double quotes.
		{"echo $(rm x)", MayWrite},
		{"echo `rm x`", MayWrite},
		{`echo "$(rm x)"`, MayWrite},
		{"echo \"`rm x`\"", MayWrite},
		{"cat <(rm x)", MayWrite},
		{"echo $((1+2))", MayWrite},
		{"echo $[1+2]", MayWrite},
		{"echo ${x:=y}", MayWrite},
		{`echo "${PS1@P}"`, MayWrite},
		{"echo ${a[i]}", MayWrite},
		{"echo ${HOME", MayWrite},
		{"echo ${HOME} $HOME ${1} $#", ReadOnly},
		// But not inside single quotes.
		{`echo '$(rm x)'`, ReadOnly},
		// Environment assignments.
		{"FOO=1 ls", MayWrite},
		{"PAGER=evil git log", MayWrite},
		{"GIT_EXTERNAL_DIFF=x git diff", MayWrite},
		// Programs.
		{"rm -rf /", MayWrite},
		{"find . -delete", MayWrite},
		{"find . -name x", MayWrite},
		{"./ls", MayWrite},
		{"/bin/ls", MayWrite},
		{"$CMD", MayWrite},
		{"l*", MayWrite},
		{"sed -n 1p file", MayWrite},
		{"sudo ls", MayWrite},
		{"", MayWrite},
		{"   ", MayWrite},
		// git: only four subcommands, no global options, no output files.
		{"git", MayWrite},
		{"git push", MayWrite},
		{"git commit -m x", MayWrite},
		{"git -c core.pager=evil log", MayWrite},
		{"git -C /tmp status", MayWrite},
		{"git diff --output=/tmp/x", MayWrite},
		{"git diff --output /tmp/x", MayWrite},
		{"git log -p --output=x", MayWrite},
		{"git show --outp=x", MayWrite},
		{"git diff --ext-diff", MayWrite},
		{"git diff --ext", MayWrite},
		{"git diff *", MayWrite}, // a file named --output=x would expand into the option
		{"git log $X", MayWrite},
		{"git status; rm x", MayWrite},
		// rg: no preprocessor.
		{"rg --pre ./evil foo", MayWrite},
		{"rg --pre=./evil foo", MayWrite},
		{"rg foo *", MayWrite},
		{"rg --pre-glob '*.gz' foo", ReadOnly},
		// What the parser sees that a lexer would not.
		{"cat <<EOF\nx\nEOF", MayWrite},
		{"echo ${x/a/b}", MayWrite},
		{"! ls", MayWrite},
		{"{ ls; }", MayWrite},
		{"if true; then ls; fi", MayWrite},
		{"f() { rm x; }", MayWrite},
		{"[[ -f x ]]", MayWrite},
		{"ls ;", ReadOnly},
		// Unbalanced quoting.
		{`echo "abc`, MayWrite},
		{`echo 'abc`, MayWrite},
		{`echo abc\`, MayWrite},
	}
	for _, tt := range tests {
		if got := Classify(tt.line); got != tt.want {
			t.Errorf("Classify(%q) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

func TestSplitArgv(t *testing.T) {
	tests := []struct {
		line   string
		want   []string
		wantOK bool
	}{
		{"npm install", []string{"npm", "install"}, true},
		{"  go   test\t./... ", []string{"go", "test", "./..."}, true},
		{`echo "a b" 'c d' e\ f`, []string{"echo", "a b", "c d", "e f"}, true},
		{`echo "a;b"`, []string{"echo", "a;b"}, true},
		{`echo ""`, []string{"echo", ""}, true},
		{`echo a""b`, []string{"echo", "ab"}, true},
		{`echo "x\"y\\z\q"`, []string{"echo", `x"y\z\q`}, true},
		{`echo 'it''s'`, []string{"echo", "its"}, true},
		{`printf 'a\nb'`, []string{"printf", `a\nb`}, true},
		{"find . -exec rm {} +", []string{"find", ".", "-exec", "rm", "{}", "+"}, true},
		{"git commit -m 'fix: x=1'", []string{"git", "commit", "-m", "fix: x=1"}, true},
		{"make PREFIX=/usr", []string{"make", "PREFIX=/usr"}, true},
		{`echo '$HOME' "\$HOME"`, []string{"echo", "$HOME", "$HOME"}, true},
		{"echo héllo", []string{"echo", "héllo"}, true},

		{"echo a;rm x", nil, false},
		{"a && b", nil, false},
		{"a | b", nil, false},
		{"a > f", nil, false},
		{"a &", nil, false},
		{"echo $HOME", nil, false},
		{`echo "$HOME"`, nil, false},
		{"echo $(date)", nil, false},
		{"ls *.go", nil, false},
		{"ls ~/x", nil, false},
		{"ls --dir=~/x", nil, false},
		{"echo {a,b}", nil, false},
		{"FOO=1 npm test", nil, false},
		{"npm test # run", nil, false},
		{`echo "abc`, nil, false},
		{"", nil, false},
	}
	for _, tt := range tests {
		got, ok := SplitArgv(tt.line)
		if ok != tt.wantOK || !cmp.Equal(got, tt.want) {
			t.Errorf("SplitArgv(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.wantOK)
		}
	}
}
