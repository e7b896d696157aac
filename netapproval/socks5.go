package netapproval

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// SOCKS5 wire constants, RFC 1928 (and RFC 1929 for username/password).
const socksVersion = 5

// socksMethod is an authentication method (RFC 1928 section 3).
type socksMethod byte

const (
	methodUserPass     socksMethod = 0x02
	methodNoAcceptable socksMethod = 0xff
)

// RFC 1929 section 2: the subnegotiation version and its status bytes.
const (
	userPassVersion = 0x01
	userPassOK      = 0x00
	userPassFailed  = 0x01
)

// socksCmd is a request command (RFC 1928 section 4).
type socksCmd byte

const (
	cmdConnect      socksCmd = 0x01
	cmdUDPAssociate socksCmd = 0x03
)

// socksAtyp is an address type (RFC 1928 section 5).
type socksAtyp byte

const (
	atypIPv4   socksAtyp = 0x01
	atypDomain socksAtyp = 0x03
	atypIPv6   socksAtyp = 0x04
)

// socksReply is a reply code (RFC 1928 section 6).
type socksReply byte

const (
	repSucceeded        socksReply = 0x00
	repGeneralFailure   socksReply = 0x01
	repNotAllowed       socksReply = 0x02 // connection not allowed by ruleset
	repHostUnreachable  socksReply = 0x04
	repConnRefused      socksReply = 0x05
	repCmdNotSupported  socksReply = 0x07
	repAddrNotSupported socksReply = 0x08
)

// errAddrType marks a request with an unknown address type.
var errAddrType = errors.New("socks5: unsupported address type")

// socksRequest is a parsed request (RFC 1928 section 4).
type socksRequest struct {
	cmd  socksCmd
	host string // IP literal or domain name, as sent
	port uint16
}

// serveSOCKS runs the SOCKS5 accept loop until the listener closes.
func (m *Manager) serveSOCKS(ln net.Listener) {
	defer m.wg.Done()
	m.acceptLoop(ln, "socks5 proxy", m.serveSOCKSConn)
}

// serveSOCKSConn handles one SOCKS5 client connection to its end. The
// negotiation and request phase is bounded by headTimeout, so an idle
// local client cannot hold a handler forever; the policy decision (which
// may wait for the user) runs after the deadline is cleared.
func (m *Manager) serveSOCKSConn(c net.Conn, ad *admitted) {
	defer m.leave()
	defer c.Close()
	defer ad.release()
	// Close must be able to end a connection in any phase.
	stop := context.AfterFunc(m.ctx, func() { c.Close() })
	defer stop()

	_ = c.SetDeadline(time.Now().Add(headTimeout))
	br := bufio.NewReader(c)
	a, err := m.socksAuthenticate(br, c)
	if err != nil || a == nil {
		return // closed: a failed authentication gets no second try
	}
	ad.release()
	req, err := readSocksRequest(br)
	if errors.Is(err, errAddrType) {
		writeSocksReply(c, repAddrNotSupported, netip.AddrPort{})
		return
	}
	if err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	switch req.cmd {
	case cmdConnect:
		m.socksConnect(a, c, br, req)
	case cmdUDPAssociate:
		if udpUnsupported(c) {
			writeSocksReply(c, repCmdNotSupported, netip.AddrPort{})
			return
		}
		m.socksAssociate(a, c, br, req)
	default:
		writeSocksReply(c, repCmdNotSupported, netip.AddrPort{})
	}
}

// socksAuthenticate negotiates username/password authentication (the only
// method offered) and checks the credential. It returns nil after telling
// the client why when the client cannot or did not authenticate.
func (m *Manager) socksAuthenticate(br *bufio.Reader, w io.Writer) (*Attachment, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] != socksVersion {
		return nil, errors.New("socks5: bad version")
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return nil, err
	}
	offered := false
	for _, mth := range methods {
		if socksMethod(mth) == methodUserPass {
			offered = true
		}
	}
	if !offered {
		_, err := w.Write([]byte{socksVersion, byte(methodNoAcceptable)})
		return nil, err
	}
	if _, err := w.Write([]byte{socksVersion, byte(methodUserPass)}); err != nil {
		return nil, err
	}
	ver, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	if ver != userPassVersion {
		return nil, errors.New("socks5: bad auth version")
	}
	user, err := readShortString(br)
	if err != nil {
		return nil, err
	}
	pass, err := readShortString(br)
	if err != nil {
		return nil, err
	}
	a := m.authenticate(user, pass)
	status := byte(userPassOK)
	if a == nil {
		status = userPassFailed
	}
	if _, err := w.Write([]byte{userPassVersion, status}); err != nil {
		return nil, err
	}
	return a, nil
}

// readShortString reads a length-prefixed string (one length byte).
func readShortString(br *bufio.Reader) (string, error) {
	n, err := br.ReadByte()
	if err != nil {
		return "", err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func readSocksRequest(br *bufio.Reader) (socksRequest, error) {
	var hdr [3]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return socksRequest{}, err
	}
	if hdr[0] != socksVersion {
		return socksRequest{}, errors.New("socks5: bad request version")
	}
	host, port, err := readSocksAddr(br)
	if err != nil {
		return socksRequest{}, err
	}
	return socksRequest{cmd: socksCmd(hdr[1]), host: host, port: port}, nil
}

// readSocksAddr reads ATYP, DST.ADDR and DST.PORT.
func readSocksAddr(r io.ByteReader) (string, uint16, error) {
	atyp, err := r.ReadByte()
	if err != nil {
		return "", 0, err
	}
	var n int
	switch socksAtyp(atyp) {
	case atypIPv4:
		n = 4
	case atypIPv6:
		n = 16
	case atypDomain:
		l, err := r.ReadByte()
		if err != nil {
			return "", 0, err
		}
		n = int(l)
	default:
		return "", 0, errAddrType
	}
	b := make([]byte, n+2)
	for i := range b {
		if b[i], err = r.ReadByte(); err != nil {
			return "", 0, err
		}
	}
	port := binary.BigEndian.Uint16(b[n:])
	switch socksAtyp(atyp) {
	case atypIPv4:
		return netip.AddrFrom4([4]byte(b[:4])).String(), port, nil
	case atypIPv6:
		return netip.AddrFrom16([16]byte(b[:16])).String(), port, nil
	}
	return string(b[:n]), port, nil
}

// appendSocksAddr appends ATYP, ADDR and PORT for an IP address.
func appendSocksAddr(b []byte, ap netip.AddrPort) []byte {
	a := ap.Addr().Unmap()
	if a.Is4() {
		v4 := a.As4()
		b = append(append(b, byte(atypIPv4)), v4[:]...)
	} else if a.Is6() {
		v6 := a.As16()
		b = append(append(b, byte(atypIPv6)), v6[:]...)
	} else {
		b = append(b, byte(atypIPv4), 0, 0, 0, 0)
	}
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// writeSocksReply writes a reply with the bound address.
func writeSocksReply(w io.Writer, rep socksReply, bound netip.AddrPort) error {
	b := appendSocksAddr([]byte{socksVersion, byte(rep), 0}, bound)
	_, err := w.Write(b)
	return err
}

// socksConnect serves CONNECT: policy, vetted dial, then a tunnel. While
// a prompt is open the handler waits in a read of the client, as the
// CONNECT front does.
func (m *Manager) socksConnect(a *Attachment, c net.Conn, br *bufio.Reader, req socksRequest) {
	v, early := a.decide(m.ctx, destination{host: req.host, port: strconv.Itoa(int(req.port)), protocol: ProtocolSOCKS5TCP}, c)
	if !v.allow {
		if !v.abandoned {
			writeSocksReply(c, repNotAllowed, netip.AddrPort{})
		}
		return
	}
	up, err := a.dial(m.ctx, v.key)
	if err != nil {
		var d *Denial
		switch {
		case errors.As(err, &d):
			writeSocksReply(c, repNotAllowed, netip.AddrPort{})
		case errors.Is(err, syscall.ECONNREFUSED):
			writeSocksReply(c, repConnRefused, netip.AddrPort{})
		default:
			writeSocksReply(c, repHostUnreachable, netip.AddrPort{})
		}
		return
	}
	// Data the client sent before the reply: what the reader buffered, then
	// the byte the wait read.
	if n := br.Buffered(); n > 0 {
		buffered, _ := br.Peek(n)
		early = append(buffered[:n:n], early...)
	}
	tunnel(a, v.ref, c, up, func() error {
		bound, _ := netip.ParseAddrPort(up.LocalAddr().String())
		return writeSocksReply(c, repSucceeded, bound)
	}, early)
}

// socksAssociate serves UDP ASSOCIATE until the control connection closes.
func (m *Manager) socksAssociate(a *Attachment, c net.Conn, br *bufio.Reader, req socksRequest) {
	relay, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		writeSocksReply(c, repGeneralFailure, netip.AddrPort{})
		return
	}
	upstream, err := net.ListenUDP("udp", nil)
	if err != nil {
		relay.Close()
		writeSocksReply(c, repGeneralFailure, netip.AddrPort{})
		return
	}
	as := newUDPAssoc(m, a, c, relay, upstream, req)
	defer as.close()
	if err := writeSocksReply(c, repSucceeded, relay.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go as.relayFromClient(done)
	go as.relayFromUpstream(done)
	// RFC 1928 section 7: the association ends with its TCP connection.
	_, _ = io.Copy(io.Discard, br)
	as.close()
	<-done
	<-done
}
