package protocol

import (
	"bytes"
	"encoding/json"
)

// marshal is json.Marshal without HTML escaping: <, > and & stay as they
// are instead of growing sixfold (\u003c). Nothing reads this JSON as
// HTML. An encoder that escapes (json.Marshal of an enclosing value) still
// escapes what this returns; one that does not (the rollout writer) keeps
// it as it is.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}
