package sandbox

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// runSpare is a spare helper (Spares): started like the helper, it says
// it is ready on the socket at fd 3, receives the command's stdout and
// stderr and its request, takes them as its own and working directory,
// and goes on as the helper does. An end of stream before the request
// means the server no longer needs it.
func runSpare() {
	sock := os.NewFile(3, "sandbox-spare")
	if _, err := sock.Write([]byte{1}); err != nil {
		os.Exit(exitSetupFailed)
	}
	fd := int(sock.Fd())
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := unix.Recvmsg(fd, make([]byte, 1), oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil || n == 0 {
		os.Exit(exitSetupFailed)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		fatalf("spare: no descriptors in the request")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 2 {
		fatalf("spare: want 2 descriptors, got %d", len(fds))
	}
	body, err := io.ReadAll(sock)
	if err != nil {
		fatalf("spare: reading the request: %v", err)
	}
	sock.Close()
	for i, f := range fds {
		if err := unix.Dup2(f, 1+i); err != nil {
			fatalf("spare: stdio: %v", err)
		}
		unix.Close(f)
	}
	req, err := decodeRequest(string(body))
	if err != nil {
		fatalf("%v", err)
	}
	if req.Dir != "" {
		if err := os.Chdir(req.Dir); err != nil {
			fatalf("spare: %v", err)
		}
	}
	runHelper(req, req.Env)
}
