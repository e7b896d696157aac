package netapproval

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// On loopback every local user sends from 127.0.0.1, so an address says
// nothing about who sent a datagram. The kernel's socket tables do: they
// name the user owning each socket. They are read to tell whether the
// client of a UDP association and the sender of a datagram are one user.

// tcpPeerUID returns the user owning the local TCP socket whose address is
// local and whose peer is remote (the client end of a connection the proxy
// accepted).
func tcpPeerUID(local, remote netip.AddrPort) (uint32, bool) {
	var uid uint32
	found := false
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		scanSockets(table, func(l, r netip.AddrPort, u uint32) {
			if sameAddrPort(l, local) && sameAddrPort(r, remote) {
				uid, found = u, true
			}
		})
	}
	return uid, found
}

// udpSenderUIDs returns the users owning the UDP sockets that can send
// from addr: bound to its port and to its address or to any address.
func udpSenderUIDs(addr netip.AddrPort) []uint32 {
	var uids []uint32
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		scanSockets(table, func(l, _ netip.AddrPort, u uint32) {
			if l.Port() == addr.Port() && (l.Addr().Unmap() == addr.Addr() || l.Addr().IsUnspecified()) {
				uids = append(uids, u)
			}
		})
	}
	return uids
}

// sameAddrPort compares two addresses, IPv4-mapped forms as IPv4.
func sameAddrPort(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// scanSockets calls f for each socket of a /proc/net table (local
// address, remote address, owner uid); a table it cannot read has none.
func scanSockets(table string, f func(local, remote netip.AddrPort, uid uint32)) {
	file, err := os.Open(table)
	if err != nil {
		return
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 {
			continue
		}
		local, ok1 := parseProcAddr(fields[1])
		remote, ok2 := parseProcAddr(fields[2])
		uid, err := strconv.ParseUint(fields[7], 10, 32)
		if ok1 && ok2 && err == nil {
			f(local, remote, uint32(uid))
		}
	}
}

// parseProcAddr parses "0100007F:1F90": the address as the kernel holds it
// in memory, printed one 32-bit word at a time in host byte order, then
// the port.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	addrHex, portHex, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(portHex, 16, 16)
	raw, herr := hex.DecodeString(addrHex)
	if !ok || err != nil || herr != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, false
	}
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a, uint16(port)), true
}
