package termclient

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--home", "/h", "-c", "a=1", "--cwd", "/w", "--approval-policy", "on-failure",
		"--auto", "decline", "--exec", "curl x", "-c", "b=2", "--log-level", "debug"})
	if err != nil {
		t.Fatal(err)
	}
	if o.home != "/h" || o.cwd != "/w" || o.approvalPolicy != "on-request" || o.auto != "decline" || !o.execSet || o.exec != "curl x" {
		t.Errorf("%+v", o)
	}
	if d := cmp.Diff([]string{"--home", "/h", "-c", "a=1", "-c", "b=2", "--log-level", "debug", "serve"}, serverArgs(o)); d != "" {
		t.Errorf("server args (-want +got)\n%s", d)
	}
	for _, bad := range [][]string{
		{"--auto", "yes"}, {"--approval-policy", "sometimes"}, {"-c", "novalue"}, {"--exec", " "}, {"stray"}, {"--nope"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := parseFlags([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestHelpDocumentsEverything: --help names every key, /command, --auto
// mode and exit code.
func TestHelpDocumentsEverything(t *testing.T) {
	var b strings.Builder
	printUsage(&b)
	help := b.String()
	var want []string
	for _, k := range promptKeys {
		want = append(want, "\n  "+string(k.key)+" ")
	}
	for _, c := range slashCommands {
		want = append(want, "\n  "+c.name)
	}
	want = append(want, autoModes...)
	want = append(want, "What prompts when", "network.allow_local_binding = true", "https://example.com", "--save", "Ctrl-L")
	want = append(want, "Ctrl-C", "Ctrl-D", "NO_COLOR", "--exec", "--cwd", "--approval-policy", "--home", "--config", "-c key=value", "--server-log")
	for _, code := range []string{"0 ", "2 ", "125", "126", "130"} {
		want = append(want, "\n  "+code)
	}
	for _, w := range want {
		if !strings.Contains(help, w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}
