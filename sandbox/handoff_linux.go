package sandbox

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// A hand-off passes a command to the next stage over a Unix socket: its
// stdout and stderr ride on the first byte (SCM_RIGHTS), then come the
// request's length (4 bytes, big-endian) and the request. The server hands
// commands to a spare helper this way, and every helper to its command
// stage (stage_linux.go); the socket stays open for the next one.

// maxRequest bounds a request's length: argv and environment are bounded
// by the kernel's own limits well below it.
const maxRequest = 64 << 20

// sendHandoff sends req with stdout and stderr on sock.
func sendHandoff(sock *os.File, req *request, stdout, stderr int) error {
	body := req.encode()
	msg := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)))
	msg = append(msg, body...)
	rights := unix.UnixRights(stdout, stderr)
	if err := unix.Sendmsg(int(sock.Fd()), msg[:1], rights, nil, 0); err != nil {
		return err
	}
	_, err := sock.Write(msg[1:])
	return err
}

// receiveHandoff reads what sendHandoff sent. io.EOF before the first
// byte means the sender has closed the socket: it no longer needs this
// stage.
func receiveHandoff(sock *os.File) (req *request, stdout, stderr int, err error) {
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), make([]byte, 1), oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, 0, 0, err
	}
	if n == 0 {
		return nil, 0, 0, io.EOF
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, 0, 0, fmt.Errorf("no descriptors in the hand-off")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 2 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, 0, 0, fmt.Errorf("want 2 descriptors in the hand-off, got %d", len(fds))
	}
	var size [4]byte
	_, err = io.ReadFull(sock, size[:])
	if err == nil && binary.BigEndian.Uint32(size[:]) > maxRequest {
		err = fmt.Errorf("request of %d bytes", binary.BigEndian.Uint32(size[:]))
	}
	if err == nil {
		body := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err = io.ReadFull(sock, body); err == nil {
			req, err = decodeRequest(string(body))
		}
	}
	if err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, 0, 0, fmt.Errorf("reading the hand-off: %w", err)
	}
	return req, fds[0], fds[1], nil
}

// readByte reads one byte of the stages' one-byte messages (ready,
// done, an exit status); ok is false at the end of the stream.
func readByte(sock *os.File) (b byte, ok bool) {
	var buf [1]byte
	n, _ := sock.Read(buf[:])
	return buf[0], n == 1
}

// takeStdio makes stdout and stderr this process's fds 1 and 2 (closing
// the originals), so that its own messages reach the command's output.
func takeStdio(stdout, stderr int) error {
	for i, fd := range []int{stdout, stderr} {
		if err := unix.Dup2(fd, 1+i); err != nil {
			return err
		}
	}
	for _, fd := range []int{stdout, stderr} {
		if fd != 1 && fd != 2 {
			unix.Close(fd)
		}
	}
	return nil
}

// releaseStdio points fds 1 and 2 at /dev/null: once the command has its
// copies, a stage that kept them would hold the server's output pipes
// open after the command and its processes are gone.
func releaseStdio() {
	null, err := unix.Open(os.DevNull, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(1)
		unix.Close(2)
		return
	}
	_ = unix.Dup2(null, 1)
	_ = unix.Dup2(null, 2)
	unix.Close(null)
}
