package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// RequestID is a JSON-RPC request id: a string or an integer. A response
// echoes the id with the type it was sent with, so the kind is kept.
//
// The zero value is the integer id 0.
type RequestID struct {
	str   string
	num   int64
	isStr bool
}

// IntID returns an integer request id.
func IntID(n int64) RequestID { return RequestID{num: n} }

// StringID returns a string request id.
func StringID(s string) RequestID { return RequestID{str: s, isStr: true} }

// IsString reports whether the id was sent as a JSON string.
func (id RequestID) IsString() bool { return id.isStr }

// Int returns the integer value of an integer id (0 for a string id).
func (id RequestID) Int() int64 { return id.num }

// String returns the id as text: the string itself, or the decimal integer.
func (id RequestID) String() string {
	if id.isStr {
		return id.str
	}
	return strconv.FormatInt(id.num, 10)
}

// MarshalJSON writes a JSON string or number.
func (id RequestID) MarshalJSON() ([]byte, error) {
	if id.isStr {
		return marshal(id.str)
	}
	return strconv.AppendInt(nil, id.num, 10), nil
}

// UnmarshalJSON accepts a JSON string or an integer that fits in int64.
// Fractions and exponents are refused: an id must echo back exactly.
func (id *RequestID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = StringID(s)
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("request id must be a string or an integer, got %s", b)
	}
	*id = IntID(n)
	return nil
}
