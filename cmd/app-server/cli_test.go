package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary run as the app-server command, so that the
// scripts in testdata/script exercise the real main (flags, signals setup,
// exit codes, stdout and stderr) in a subprocess.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"app-server": main})
}

// TestScripts runs the CLI transcripts in testdata/script. Each script gets
// its own $WORK; $HOME points into it so the default home (~/.app-server)
// never touches the real one, and $GOLDEN is the repository's
// testdata/schema.
func TestScripts(t *testing.T) {
	golden, err := filepath.Abs("../../testdata/schema")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "userhome"))
			env.Setenv("APP_SERVER_HOME", "")
			env.Setenv("GOLDEN", golden)
			// Under -race, a process exiting 0 sleeps 1 s first by default.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"exitcode": cmdExitCode},
		RequireExplicitExec: true,
	})
}

// cmdExitCode is the script command "exitcode N prog args...": it runs
// prog like exec and fails unless prog exits with status N.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// TestGenerateMatchesGolden checks that both generate subcommands write
// every golden file byte for byte, and nothing else.
func TestGenerateMatchesGolden(t *testing.T) {
	for _, tc := range []struct{ cmd, golden string }{
		{"generate-json-schema", "../../testdata/schema/json"},
		{"generate-ts", "../../testdata/schema/typescript"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var stderr bytes.Buffer
			if code := run(t.Context(), []string{tc.cmd, "--out", out}, nil, io.Discard, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			want := readTree(t, tc.golden)
			got := readTree(t, out)
			if len(want) == 0 {
				t.Fatalf("no golden files in %s", tc.golden)
			}
			for name, w := range want {
				g, ok := got[name]
				switch {
				case !ok:
					t.Errorf("%s not written", name)
				case !bytes.Equal(g, w):
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

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestResolveHome(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", filepath.Join(dir, "user"))
	tests := []struct {
		name, flag, env, want string
	}{
		{name: "flag", flag: filepath.Join(dir, "flag"), env: filepath.Join(dir, "env"), want: filepath.Join(dir, "flag")},
		{name: "env", env: filepath.Join(dir, "env"), want: filepath.Join(dir, "env")},
		{name: "default", want: filepath.Join(dir, "user", ".app-server")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("APP_SERVER_HOME", tt.env)
			got, err := resolveHome(tt.flag)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("home %s, want %s", got, tt.want)
			}
			fi, err := os.Stat(got)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o700 {
				t.Errorf("home created with mode %v, want 0700", perm)
			}
		})
	}
	// A relative --home is made absolute (it is reported as codexHome).
	t.Chdir(dir)
	got, err := resolveHome("rel")
	if err != nil || got != filepath.Join(dir, "rel") {
		t.Errorf("resolveHome(rel) = %q, %v; want %s", got, err, filepath.Join(dir, "rel"))
	}
}

// TestServeCancel checks that cancelling the context (what SIGINT and
// SIGTERM do) stops serve within 2 s while stdin stays open.
func TestServeCancel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--home", t.TempDir(), "--log-level", "error"}, r, io.Discard, io.Discard)
	}()
	time.Sleep(50 * time.Millisecond) // let it start reading
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("serve did not return within 2 s of cancellation")
	}
}

// appServerCmd returns a command running this test binary as app-server
// (see TestMain).
func appServerCmd(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Args[0] = "app-server"
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	return cmd
}

// TestSignalStops checks that SIGTERM and SIGINT stop a server whose stdin
// stays open: exit 0 within 2 s.
func TestSignalStops(t *testing.T) {
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Interrupt} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := appServerCmd(t, "--home", t.TempDir())
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the initialize reply, so the signal handlers are in.
			io.WriteString(stdin, initLine)
			if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit: %v, want 0\nstderr:\n%s", err, stderr.String())
				}
				if !strings.Contains(stderr.String(), `reason=signal`) {
					t.Errorf("stderr does not log the stop reason:\n%s", stderr.String())
				}
			case <-time.After(2 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 2 s after %v", sig)
			}
		})
	}
}

// TestBrokenStdout checks that a closed stdout makes the server log and
// exit non-zero (EPIPE), instead of dying silently of SIGPIPE.
func TestBrokenStdout(t *testing.T) {
	cmd := appServerCmd(t, "--home", t.TempDir())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // nobody reads the server's stdout
	cmd.Stdout = w
	cmd.Stdin = strings.NewReader(initLine)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("exit: %v, want status %d\nstderr:\n%s", err, exitError, stderr.String())
	}
	if !strings.Contains(stderr.String(), "broken pipe") {
		t.Errorf("stderr does not name the write error:\n%s", stderr.String())
	}
}

const initLine = `{"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","version":"1"}}}` + "\n"

// The version Go records for a build in a tagged checkout is printed as it
// is; a build without one (go run, -buildvcs=false) is "dev".
func TestModuleVersion(t *testing.T) {
	for _, tc := range []struct {
		main, want string
	}{
		{"v0.3.0", "v0.3.0"},
		{"v0.3.1-0.20261130031334-6121c10124e1+dirty", "v0.3.1-0.20261130031334-6121c10124e1+dirty"},
		{"(devel)", "dev"},
		{"", "dev"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "app-server", Version: tc.main}}
		if got := moduleVersion(bi); got != tc.want {
			t.Errorf("moduleVersion(%q) = %q, want %q", tc.main, got, tc.want)
		}
	}
	if got := moduleVersion(nil); got != "dev" {
		t.Errorf("moduleVersion(nil) = %q, want dev", got)
	}
}
