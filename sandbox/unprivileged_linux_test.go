package sandbox

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestAsUnprivilegedUser runs this package's enforcement tests again as
// nobody, the way a user without root runs the server: the helper then
// holds its capabilities only inside its own user namespace. Run as root
// (the machine the tests are meant for); as another user the other tests
// already are this case.
func TestAsUnprivilegedUser(t *testing.T) {
	if os.Getenv("SANDBOX_TEST_UNPRIVILEGED") != "" || os.Getuid() != 0 {
		t.Skip("already unprivileged: the other tests cover it")
	}
	requireSupport(t)
	dir, err := os.MkdirTemp("", "sandbox-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "sandbox.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(dst, src)
		dst.Close()
	}
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^(TestWritesPerMode|TestNetworkNone|TestProxyRelay|TestCommandHoldsNothing|TestCommandInNestedUserNamespace|TestSpareIsNewForEachCommand|TestReuse(LeftoversDie|CommandHoldsOnlyStdio|MountsUndoneByWhatWasMounted|ProcessAttributes|CommandCannotSignalStageOrHelper|StoppedStageIsResumed|DirRemovedBetweenCommands))$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SANDBOX_TEST_UNPRIVILEGED=1", "TMPDIR=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWritesPerMode") || !strings.Contains(string(out), "--- PASS: TestCommandHoldsNothing") || !strings.Contains(string(out), "--- PASS: TestCommandInNestedUserNamespace") || !strings.Contains(string(out), "--- PASS: TestSpareIsNewForEachCommand") || !strings.Contains(string(out), "--- PASS: TestReuseProcessAttributes") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}
