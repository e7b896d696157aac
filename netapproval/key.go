package netapproval

import (
	"net"
	"strconv"
)

// Key identifies one destination for approval purposes: a normalized host
// (see NormalizeHost), the ingress protocol and the port. Prompts are deduped
// and session grants are remembered per Key.
type Key struct {
	Host     string
	Protocol Protocol
	Port     uint16
}

// String formats the key for logs, e.g. "https://example.com:443".
func (k Key) String() string {
	return k.Protocol.String() + "://" + k.hostPort()
}

// hostPort is the dialable "host:port" form, bracketing IPv6 literals.
func (k Key) hostPort() string {
	return net.JoinHostPort(k.Host, strconv.Itoa(int(k.Port)))
}
