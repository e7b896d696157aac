package netapproval

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// udpAssoc is one SOCKS5 UDP association. The policy decides per
// destination key on the first datagram to it; the decision holds for the
// association's lifetime (a UDP client retries, and prompting per datagram
// would be unusable). Revoking a grant that allowed a destination closes
// the whole association.
type udpAssoc struct {
	m        *Manager
	a        *Attachment
	ctrl     net.Conn     // the TCP control connection
	relay    *net.UDPConn // client-facing, on 127.0.0.1
	upstream *net.UDPConn // destination-facing
	// releasePorts unregisters the two sockets' ports from the proxy's own.
	releasePorts func()
	// owner is where the client's datagrams must come from: the control
	// connection's IP, and the port the request declared (0: any); and,
	// when ownerKnown, the user owning the control connection's client
	// socket must own the sending socket too.
	owner      netip.AddrPort
	ownerUID   uint32
	ownerKnown bool
	once       sync.Once
	// ctx ends with the association, so a decision in progress (a prompt)
	// stops waiting when the client goes away.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex              // guards the fields below
	client  netip.AddrPort          // the client's UDP address, learned from its first datagram
	allowed map[Key]netip.AddrPort  // destination key -> vetted address
	denied  map[Key]bool            // keys refused for this association
	peers   map[netip.AddrPort]bool // vetted addresses replies may come from
	tracked []*tracked              // registrations with the thread
}

func newUDPAssoc(m *Manager, a *Attachment, ctrl net.Conn, relay, upstream *net.UDPConn, req socksRequest) *udpAssoc {
	as := &udpAssoc{
		m: m, a: a, ctrl: ctrl, relay: relay, upstream: upstream,
		releasePorts: m.holdUDPPorts(relay, upstream),
		allowed:      make(map[Key]netip.AddrPort), denied: make(map[Key]bool), peers: make(map[netip.AddrPort]bool),
	}
	as.ctx, as.cancel = context.WithCancel(m.ctx)
	if ctl, err := netip.ParseAddrPort(ctrl.RemoteAddr().String()); err == nil {
		as.owner = netip.AddrPortFrom(ctl.Addr().Unmap(), req.port)
		if local, err := netip.ParseAddrPort(ctrl.LocalAddr().String()); err == nil {
			as.ownerUID, as.ownerKnown = tcpPeerUID(ctl, local)
		}
	}
	return as
}

// close ends the association: both sockets and the control connection.
func (as *udpAssoc) close() error {
	as.once.Do(func() {
		as.cancel()
		as.relay.Close()
		as.upstream.Close()
		as.releasePorts()
		as.ctrl.Close()
		as.mu.Lock()
		list := as.tracked
		as.tracked = nil
		as.mu.Unlock()
		for _, tr := range list {
			tr.release()
		}
	})
	return nil
}

// relayFromClient forwards the client's datagrams to allowed destinations.
func (as *udpAssoc) relayFromClient(done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := as.relay.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if !as.acceptClient(from) {
			continue
		}
		host, port, payload, ok := parseUDPDatagram(buf[:n])
		if !ok {
			continue
		}
		dest, ok := as.destination(host, port)
		if !ok {
			continue
		}
		_, _ = as.upstream.WriteToUDPAddrPort(payload, dest)
	}
}

// relayFromUpstream returns replies from vetted destinations to the client.
func (as *udpAssoc) relayFromUpstream(done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := as.upstream.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		as.mu.Lock()
		known, client := as.peers[from], as.client
		as.mu.Unlock()
		if !known || !client.IsValid() {
			continue // not a destination this association was allowed to reach
		}
		pkt := appendSocksAddr([]byte{0, 0, 0}, from)
		pkt = append(pkt, buf[:n]...)
		_, _ = as.relay.WriteToUDPAddrPort(pkt, client)
	}
}

// acceptClient pins the association to its client: the first datagram
// from the control connection's IP (and the port the request declared,
// when it declared one) (RFC 1928 section 7), sent by a socket of the
// control connection's user where the kernel says who that is. Datagrams
// from anywhere else are dropped: with the 0.0.0.0:0 hint, another local
// user sending first must not take over the association and have its
// destinations prompted for in the victim command's name.
func (as *udpAssoc) acceptClient(from netip.AddrPort) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.client.IsValid() {
		return from == as.client
	}
	if !as.owner.Addr().IsValid() || from.Addr() != as.owner.Addr() || (as.owner.Port() != 0 && from.Port() != as.owner.Port()) {
		return false
	}
	if as.ownerKnown && !as.sentByOwner(from) {
		return false
	}
	as.client = from
	return true
}

// sentByOwner reports whether every socket that can send from `from`
// belongs to the user of the control connection: on loopback, where every
// local user shares the address, this is what tells the client apart.
func (as *udpAssoc) sentByOwner(from netip.AddrPort) bool {
	uids := udpSenderUIDs(from)
	for _, u := range uids {
		if u != as.ownerUID {
			return false
		}
	}
	return len(uids) > 0
}

// destination decides a datagram's destination once per key and returns
// the vetted address to send to.
func (as *udpAssoc) destination(host string, port uint16) (netip.AddrPort, bool) {
	k, _ := requestKey(host, strconv.Itoa(int(port)), ProtocolSOCKS5UDP)
	as.mu.Lock()
	dest, allowed := as.allowed[k]
	refused := as.denied[k]
	as.mu.Unlock()
	if allowed {
		return dest, true
	}
	if refused {
		return netip.AddrPort{}, false
	}
	v, _ := as.a.decide(as.ctx, destination{host: host, port: strconv.Itoa(int(port)), protocol: ProtocolSOCKS5UDP}, nil)
	if !v.allow {
		as.refuse(k)
		return netip.AddrPort{}, false
	}
	addrs, err := as.m.policy.dialAddrs(as.ctx, k.Host)
	if err != nil {
		var d *Denial
		if errors.As(err, &d) {
			as.a.recordBlock(k, d)
		}
		as.refuse(k)
		return netip.AddrPort{}, false
	}
	dest = netip.AddrPortFrom(addrs[0].Unmap(), k.Port)
	if as.m.isSelfUDP(dest) {
		// A datagram to one of the proxy's own UDP sockets would loop
		// back in, or take another command's association.
		as.a.recordBlock(k, &Denial{Reason: ReasonNotAllowedLocal, Source: SourceBaselinePolicy, Message: "The proxy cannot send to itself."})
		as.refuse(k)
		return netip.AddrPort{}, false
	}
	tr, ok := as.a.t.track(v.ref, as)
	if !ok {
		as.close()
		return netip.AddrPort{}, false
	}
	as.mu.Lock()
	as.allowed[k] = dest
	as.peers[dest] = true
	as.tracked = append(as.tracked, tr)
	as.mu.Unlock()
	return dest, true
}

func (as *udpAssoc) refuse(k Key) {
	as.mu.Lock()
	as.denied[k] = true
	as.mu.Unlock()
}

// Close lets the association be a tracked connection: revocation closes it.
func (as *udpAssoc) Close() error { return as.close() }

// parseUDPDatagram splits a client datagram (RFC 1928 section 7) into its
// destination and payload. Fragments are not supported and are dropped.
func parseUDPDatagram(b []byte) (host string, port uint16, payload []byte, ok bool) {
	if len(b) < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0 {
		return "", 0, nil, false
	}
	r := bytes.NewReader(b[3:])
	host, port, err := readSocksAddr(r)
	if err != nil {
		return "", 0, nil, false
	}
	return host, port, b[len(b)-r.Len():], true
}
