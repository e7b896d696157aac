package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

// roundTrip decodes wire into a fresh T, encodes it again and requires the
// same bytes back.
func roundTrip[T any](t *testing.T, wire string) {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(wire), &v); err != nil {
		t.Fatalf("decode %s: %v", wire, err)
	}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %s: %v", wire, err)
	}
	if string(got) != wire {
		t.Errorf("round trip changed the message\n got: %s\nwant: %s", got, wire)
	}
}

// decodeFails requires decoding wire into T to fail with an error containing want.
func decodeFails[T any](t *testing.T, wire, want string) {
	t.Helper()
	var v T
	err := json.Unmarshal([]byte(wire), &v)
	if err == nil {
		t.Fatalf("decode %s: no error, want one containing %q", wire, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("decode %s: error %q does not name %q", wire, err, want)
	}
}

func TestDecisionWireForms(t *testing.T) {
	for _, wire := range []string{
		`"accept"`,
		`"acceptForSession"`,
		`"decline"`,
		`"cancel"`,
		`{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","fetch"]}}`,
		`{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"a.com","action":"allow"}}}`,
		`{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"a.com","action":"deny"}}}`,
	} {
		t.Run(wire, func(t *testing.T) { roundTrip[CommandExecutionApprovalDecision](t, wire) })
	}
}

func TestDecisionRejectsEverythingElse(t *testing.T) {
	for _, tc := range []struct{ wire, want string }{
		{`"approve"`, "unknown variant `approve`"},
		{`"Accept"`, "unknown variant `Accept`"},
		{`42`, "expected a string or an object"},
		{`null`, "expected a string or an object"},
		{`{}`, "exactly one key"},
		{`{"accept":{}}`, "unknown variant `accept`"},
		{`{"acceptWithExecpolicyAmendment":{}}`, "missing field `execpolicy_amendment`"},
		{`{"acceptWithExecpolicyAmendment":{"execpolicyAmendment":["a"]}}`, "missing field `execpolicy_amendment`"},
		{`{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"a.com"}}}`, "missing field `action`"},
		{`{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"a.com","action":"maybe"}}}`, "unknown NetworkPolicyRuleAction \"maybe\""},
		{`{"applyNetworkPolicyAmendment":{}}`, "missing field `network_policy_amendment`"},
		{`{"cancel":1,"decline":2}`, "exactly one key"},
	} {
		t.Run(tc.wire, func(t *testing.T) { decodeFails[CommandExecutionApprovalDecision](t, tc.wire, tc.want) })
	}
}

func TestTaggedUnionsRoundTrip(t *testing.T) {
	t.Run("UserInput", func(t *testing.T) {
		roundTrip[UserInput](t, `{"type":"text","text":"ls -la","text_elements":[]}`)
		roundTrip[UserInput](t, `{"type":"image","url":"https://a.test/x.png"}`)
		roundTrip[UserInput](t, `{"type":"localImage","path":"/tmp/x.png","detail":"high"}`)
	})
	t.Run("ThreadItem", func(t *testing.T) {
		roundTrip[ThreadItem](t, `{"type":"userMessage","id":"u1","clientId":null,"content":[{"type":"text","text":"pwd","text_elements":[]}],"startedAtMs":1,"completedAtMs":null}`)
		roundTrip[ThreadItem](t, `{"type":"agentMessage","id":"a1","text":"hi","phase":null,"memoryCitation":null,"delivery":null,"moderation":null,"questions":null,"startedAtMs":null,"completedAtMs":null}`)
		roundTrip[ThreadItem](t, `{"type":"commandExecution","id":"c1","pluginId":null,"scriptPath":null,"command":"ls","cwd":"/w","processId":null,"source":"agent","status":"completed","commandActions":[{"type":"listFiles","command":"ls","path":null}],"aggregatedOutput":"a\n","exitCode":0,"durationMs":3,"startedAtMs":1,"completedAtMs":4}`)
	})
	t.Run("CommandAction", func(t *testing.T) {
		roundTrip[CommandAction](t, `{"type":"read","command":"cat a","name":"a","path":"a"}`)
		roundTrip[CommandAction](t, `{"type":"search","command":"rg x","query":"x","path":null}`)
		roundTrip[CommandAction](t, `{"type":"unknown","command":"make"}`)
	})
	t.Run("ThreadStatus", func(t *testing.T) {
		roundTrip[ThreadStatus](t, `{"type":"idle"}`)
		roundTrip[ThreadStatus](t, `{"type":"notLoaded"}`)
		roundTrip[ThreadStatus](t, `{"type":"systemError"}`)
		roundTrip[ThreadStatus](t, `{"type":"active","activeFlags":["waitingOnApproval"]}`)
	})
	t.Run("SandboxPolicy", func(t *testing.T) {
		roundTrip[SandboxPolicy](t, `{"type":"dangerFullAccess"}`)
		roundTrip[SandboxPolicy](t, `{"type":"readOnly","networkAccess":false}`)
		roundTrip[SandboxPolicy](t, `{"type":"externalSandbox","networkAccess":"restricted"}`)
		roundTrip[SandboxPolicy](t, `{"type":"workspaceWrite","writableRoots":[],"networkAccess":false,"excludeTmpdirEnvVar":false,"excludeSlashTmp":false}`)
	})
}

func TestTaggedUnionsRejectBadInput(t *testing.T) {
	decodeFails[UserInput](t, `{"type":"video","url":"x"}`, "unknown variant `video`")
	decodeFails[UserInput](t, `{"text":"x"}`, "missing field `type`")
	decodeFails[UserInput](t, `{"type":"text"}`, "missing field `text`")
	decodeFails[UserInput](t, `{"type":"localImage"}`, "missing field `path`")
	decodeFails[UserInput](t, `{"type":"text","text":5}`, "text")
	decodeFails[UserInput](t, `"text"`, "UserInput")
	decodeFails[ThreadItem](t, `{"type":"commandExecution","id":"c"}`, "missing field `command`")
	decodeFails[CommandAction](t, `{"type":"read","command":"cat"}`, "missing field `name`")
	decodeFails[ThreadStatus](t, `{"type":"active"}`, "missing field `activeFlags`")
}

func TestTaggedUnionMarshalNeedsExactlyOneVariant(t *testing.T) {
	if _, err := json.Marshal(UserInput{}); err == nil {
		t.Error("empty union encoded without error")
	}
	both := UserInput{Text: &TextInput{Text: "a"}, LocalImage: &LocalImageInput{Path: "b"}}
	if _, err := json.Marshal(both); err == nil {
		t.Error("union with two variants encoded without error")
	}
}

func TestRequestIDKeepsItsType(t *testing.T) {
	roundTrip[RequestID](t, `7`)
	roundTrip[RequestID](t, `"7"`)
	roundTrip[RequestID](t, `-3`)
	decodeFails[RequestID](t, `1.5`, "string or an integer")
	decodeFails[RequestID](t, `1e3`, "string or an integer")
	decodeFails[RequestID](t, `true`, "string or an integer")
}

func TestApprovalPolicyAcceptsLegacyAlias(t *testing.T) {
	var p AskForApproval
	if err := json.Unmarshal([]byte(`"on-failure"`), &p); err != nil || p != ApprovalOnRequest {
		t.Fatalf("on-failure decoded as %q, %v; want on-request", p, err)
	}
	decodeFails[AskForApproval](t, `"sometimes"`, `unknown AskForApproval "sometimes"`)
}

func TestMethodTableIsConsistent(t *testing.T) {
	for _, m := range Methods {
		if m.Params == nil {
			t.Errorf("%s has no params type", m.Name)
		}
		hasResult := m.Direction == ClientRequest || m.Direction == ServerRequest
		if hasResult != (m.Result != nil) {
			t.Errorf("%s: direction %d but result %v", m.Name, m.Direction, m.Result)
		}
		if got, ok := LookupMethod(m.Name); !ok || got.Name != m.Name {
			t.Errorf("LookupMethod(%q) failed", m.Name)
		}
	}
}

func TestDecodeParamsNamesTheField(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"input":[]}`, "missing field `threadId`"},
		{`{"threadId":5,"input":[]}`, "field `threadId`: expected string"},
		{`{"threadId":"t","input":[{"type":"text"}]}`, "missing field `text`"},
		{`{"threadId":"t","input":[],"approvalPolicy":"bogus"}`, `unknown AskForApproval "bogus"`},
		{`[]`, "params must be an object"},
		{``, "missing field `threadId`"},
	} {
		var p TurnStartParams
		err := DecodeParams([]byte(tc.raw), &p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeParams(%s) = %v, want error containing %q", tc.raw, err, tc.want)
		}
	}
	var p TurnStartParams
	if err := DecodeParams([]byte(`{"threadId":"t","input":[{"type":"text","text":"ls"}],"extra":1}`), &p); err != nil {
		t.Fatalf("valid params refused: %v", err)
	}
}
