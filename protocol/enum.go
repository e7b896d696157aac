package protocol

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// An Enum is a string type with a closed set of wire values. Package schema
// writes it as {"type":"string","enum":[...]}.
type Enum interface {
	EnumValues() []string
}

// unmarshalEnum decodes a JSON string into *dst, refusing values outside
// values so that a typo is an error naming it rather than a silent default.
func unmarshalEnum[T ~string](b []byte, dst *T, values []T) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s must be a string", reflect.TypeFor[T]().Name())
	}
	if !slices.Contains(values, T(s)) {
		return fmt.Errorf("unknown %s %q (want one of %v)", reflect.TypeFor[T]().Name(), s, values)
	}
	*dst = T(s)
	return nil
}

func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}
