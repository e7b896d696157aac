package rpc

import (
	"testing"

	"app-server/protocol"
	"app-server/session"
)

type nopClient struct{}

func (nopClient) Notify(string, any) error                        { return nil }
func (nopClient) Request(string, any) (session.ClientCall, error) { return nil, ErrDisconnected }

// Every client request method of the protocol table has a route, so a method
// added to the table cannot be forgotten by the server.
func TestEveryClientRequestIsRouted(t *testing.T) {
	m, err := session.NewManager(session.Options{Client: nopClient{}, Config: session.Config{
		Shell: []string{"/bin/sh", "-c"}, ApprovalPolicy: protocol.ApprovalOnRequest, Sandbox: protocol.SandboxWorkspaceWrite,
		Network: protocol.NetworkSettingsReadResponse{Mode: protocol.NetworkModeFull, ApprovalTimeoutDecision: protocol.NetworkTimeoutDecline},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{})
	s.RegisterSession(m)
	for _, md := range protocol.Methods {
		if md.Direction != protocol.ClientRequest || md.Name == protocol.MethodInitialize {
			continue
		}
		if _, ok := s.handlers[md.Name]; !ok {
			t.Errorf("client request %s has no route", md.Name)
		}
	}
}
