package shellcmd

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsKnownReadOnly(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"ls", true},
		{"ls -la src", true},
		{"  pwd  ", true},
		{"cat README.md", true},
		{"cat *.go", true},
		{"cat ~/notes.txt", true},
		{`echo "a;b"`, true},
		{`echo 'a && b | c > d'`, true},
		{`echo a\;b`, true},
		{`echo "$HOME"`, true},
		{"grep -rn TODO .", true},
		{"rg -n foo src", true},
		{"head -n 5 file", true},
		{"tail -f log", true},
		{"wc -l a b", true},
		{"which go", true},
		{"whoami", true},
		{"true", true},
		{"false", true},
		{"git status", true},
		{"git diff --stat HEAD~1", true},
		{"git log --oneline -n 5", true},
		{"git show HEAD:go.mod", true},
		{`\ls`, true},
		{`"ls" -l`, true},
		{"ls\\\n -l", true}, // line continuation

		// Chains, pipes, redirections, background, subshells.
		{"echo a;rm x", false},
		{"echo a; rm x", false},
		{"ls && rm -rf x", false},
		{"ls || rm x", false},
		{"ls | xargs rm", false},
		{"cat a | grep b", false},
		{"ls\nrm x", false},
		{"echo hi > file", false},
		{"echo hi >> file", false},
		{"echo hi >file", false},
		{"cat < file", false},
		{"cat <<< hi", false},
		{"ls 2>/dev/null", false},
		{"ls &>out", false},
		{"ls &", false},
		{"sleep 1 & rm x", false},
		{"(ls)", false},
		{"ls # comment", false},
		// Substitutions, also inside double quotes.
		{"echo $(rm x)", false},
		{"echo `rm x`", false},
		{`echo "$(rm x)"`, false},
		{"echo \"`rm x`\"", false},
		{"cat <(rm x)", false},
		{"echo $((1+2))", false},
		{"echo $[1+2]", false},
		{"echo ${x:=y}", false},
		{`echo "${PS1@P}"`, false},
		{"echo ${a[i]}", false},
		{"echo ${HOME", false},
		{"echo ${HOME} $HOME ${1} $#", true},
		// But not inside single quotes.
		{`echo '$(rm x)'`, true},
		// Environment assignments.
		{"FOO=1 ls", false},
		{"PAGER=evil git log", false},
		{"GIT_EXTERNAL_DIFF=x git diff", false},
		// Programs.
		{"rm -rf /", false},
		{"find . -delete", false},
		{"find . -name x", false},
		{"./ls", false},
		{"/bin/ls", false},
		{"$CMD", false},
		{"l*", false},
		{"sed -n 1p file", false},
		{"sudo ls", false},
		{"", false},
		{"   ", false},
		// git: only four subcommands, no global options, no output files.
		{"git", false},
		{"git push", false},
		{"git commit -m x", false},
		{"git -c core.pager=evil log", false},
		{"git -C /tmp status", false},
		{"git diff --output=/tmp/x", false},
		{"git diff --output /tmp/x", false},
		{"git log -p --output=x", false},
		{"git show --outp=x", false},
		{"git diff --ext-diff", false},
		{"git diff --ext", false},
		{"git diff *", false}, // a file named --output=x would expand into the option
		{"git log $X", false},
		{"git status; rm x", false},
		// rg: no preprocessor.
		{"rg --pre ./evil foo", false},
		{"rg --pre=./evil foo", false},
		{"rg foo *", false},
		{"rg --pre-glob '*.gz' foo", true},
		// Unbalanced quoting.
		{`echo "abc`, false},
		{`echo 'abc`, false},
		{`echo abc\`, false},
	}
	for _, tt := range tests {
		if got := IsKnownReadOnly(tt.line); got != tt.want {
			t.Errorf("IsKnownReadOnly(%q) = %v, want %v", tt.line, got, tt.want)
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
